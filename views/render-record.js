// Renders one record (a CoT record or a preference pair) into an element. Shared by the MCP App view
// and the run report. Text from records is only ever set as text, never parsed as HTML.
(function () {
  const SVG = 'http://www.w3.org/2000/svg';
  const METRICS = ['relevance', 'coherence', 'completeness', 'faithfulness_policy_cot', 'faithfulness_policy_response', 'faithfulness_cot_response'];
  const METRIC_LABELS = {
    relevance: 'Relevance',
    coherence: 'Coherence',
    completeness: 'Completeness',
    faithfulness_policy_cot: 'Policy ↔ CoT',
    faithfulness_policy_response: 'Policy ↔ response',
    faithfulness_cot_response: 'CoT ↔ response',
  };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null) continue;
      if (key === 'class') node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function list(items, ordered) {
    if (!items || items.length === 0) return el('p', { class: 'empty' }, 'None.');
    return el(ordered ? 'ol' : 'ul', {}, items.map((item) => el('li', {}, item)));
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** Six horizontal bars on a 1–5 scale. */
  function gradesChart(grades) {
    const width = 480;
    const row = 26;
    const left = 150;
    const chart = svg('svg', { viewBox: `0 0 ${width} ${row * METRICS.length + 24}`, role: 'img', 'aria-label': 'Grades from 1 to 5', class: 'grades-chart' });
    METRICS.forEach((metric, i) => {
      const score = grades.scores[metric];
      const y = i * row + 4;
      chart.append(svg('text', { x: 0, y: y + 14 }, METRIC_LABELS[metric]));
      chart.append(svg('rect', { class: 'bar', x: left, y, height: 16, width: ((width - left - 40) * score) / 5, rx: 3, 'data-metric': metric }));
      chart.append(svg('text', { x: left + ((width - left - 40) * score) / 5 + 6, y: y + 13 }, String(score)));
    });
    const title = svg('title', {}, METRICS.map((m) => `${METRIC_LABELS[m]}: ${grades.scores[m]} — ${grades.rationales?.[m] ?? ''}`).join('\n'));
    chart.prepend(title);
    return el('div', { class: 'grades' }, chart);
  }

  function timeline(record) {
    const items = [
      el('li', { class: 'turn initial' }, el('div', { class: 'turn-head' }, 'Initial chain of thought', el('span', { class: 'model' }, ` · ${record.models?.initial_cot ?? ''}`)), list(record.initial_thoughts, true)),
    ];
    for (const turn of record.deliberation || []) {
      items.push(
        el(
          'li',
          { class: `turn ${turn.verdict}`, 'data-round': turn.round, 'data-agent': turn.agent },
          el('div', { class: 'turn-head' }, `Round ${turn.round} · agent ${turn.agent}`, turn.focus ? el('span', { class: 'focus' }, ` · focus: ${turn.focus}`) : null, el('span', { class: 'model' }, ` · ${turn.model}`), el('span', { class: `badge ${turn.verdict}` }, turn.verdict)),
          turn.review ? el('p', { class: 'review' }, el('b', {}, 'Review: '), turn.review) : null,
          turn.thoughts.length ? list(turn.thoughts) : el('p', { class: 'empty' }, turn.verdict === 'agree' ? 'Agrees the chain of thought is complete.' : 'No new thoughts.'),
        ),
      );
    }
    return el('ol', { class: 'timeline' }, items);
  }

  function removals(removed) {
    if (!removed || removed.length === 0) return el('p', { class: 'empty' }, 'Every thought was kept.');
    return el(
      'ul',
      { class: 'removed' },
      removed.map((r) => el('li', { 'data-reason': r.reason }, el('del', {}, r.thought), el('span', { class: 'badge reason' }, r.reason.replace('_', ' ')), el('span', { class: 'why' }, r.explanation))),
    );
  }

  function renderCot(root, record) {
    const stop =
      record.stop_reason === 'baseline'
        ? 'zero-shot baseline: one model, no deliberation'
        : record.stop_reason === 'agreement'
          ? `stopped on agreement after ${record.deliberation.length} turn${record.deliberation.length === 1 ? '' : 's'}`
          : `stopped on budget of ${record.agents} × ${record.max_rounds} turns spent`;
    root.append(
      el('h1', {}, 'Deliberation'),
      el('div', { class: 'prompt', 'data-part': 'prompt' }, record.prompt),
      el('div', { class: 'meta' }, `${record.id} · policies: ${record.policy_ids.join(', ')} · ${stop} · ${record.usage?.calls ?? 0} model calls`),
      el('h2', {}, 'Intents'),
      el('div', { class: 'cols' }, el('div', { class: 'card intents-explicit' }, el('h3', {}, 'Explicit'), list(record.intents.explicit)), el('div', { class: 'card intents-implicit' }, el('h3', {}, 'Implicit'), list(record.intents.implicit)), el('div', { class: 'card intents-misuse' }, el('h3', {}, 'Possible misuse'), record.intents.possible_misuse?.length ? list(record.intents.possible_misuse) : el('p', { class: 'empty' }, 'None in the wording.'))),
      el('h2', {}, 'Deliberation'),
      timeline(record),
      el('h2', {}, 'Removed (by the thought linter or the refiner)'),
      removals(record.removed),
      el('h2', {}, 'Refined chain of thought'),
      el('div', { class: 'card refined' }, list(record.refined_thoughts, true)),
      el('h2', {}, 'Response'),
      el('div', { class: 'card response' }, record.response),
      ...(record.grades ? [el('h2', {}, 'Grades'), gradesChart(record.grades)] : []),
    );
  }

  function side(title, part, rejected) {
    return el(
      'div',
      { class: `card ${rejected ? 'rejected' : 'chosen'}` },
      rejected ? el('div', { class: 'rejected-label' }, 'REJECTED — policy-violating on purpose; training data, not advice') : null,
      el('h3', {}, title),
      rejected ? el('div', { class: 'belief' }, el('b', {}, 'Bad belief: '), part.belief) : null,
      list(part.thoughts, true),
      el('h3', {}, 'Response'),
      el('div', { class: 'response' }, part.response),
      part.grades ? gradesChart(part.grades) : null,
    );
  }

  function renderPair(root, pair) {
    root.append(
      el('h1', {}, 'Preference pair'),
      el('div', { class: 'prompt', 'data-part': 'prompt' }, pair.prompt),
      el('div', { class: 'meta' }, `${pair.id} · ${pair.margin === undefined ? 'not graded' : `margin ${pair.margin}`} (min ${pair.min_margin}) · ${pair.kept ? 'kept' : `dropped${pair.drop_reason ? ` (${pair.drop_reason.replace(/_/g, ' ')})` : ''}`}: ${pair.kept_reason} · from ${pair.source_record_id}`),
      el('h2', {}, pair.rejected ? 'Chosen and rejected' : 'Chosen (no rejected side was confirmed)'),
      el('div', { class: 'pair' }, side('Chosen', pair.chosen, false), pair.rejected ? side('Rejected', pair.rejected, true) : null),
      el('h2', {}, `Belief attempts (${pair.attempts.length})`),
      el('ol', { class: 'attempts' }, pair.attempts.map((a) => el('li', {}, el('span', { class: 'belief' }, a.belief), el('span', { class: `badge ${a.violated ? 'agree' : 'revise'}` }, a.violated ? 'violation confirmed' : 'no violation'), el('span', { class: 'why' }, ` ${a.judge_reason}`)))),
    );
  }

  // A benchmark sample: the prompt, the target's reasoning and reply, and the judge's verdict.
  function renderEval(root, record) {
    const v = record.verdict || {};
    const verdict = v.kind === 'xstest' ? v.classification.replace('_', ' ') : v.kind === 'strongreject' ? (v.refused ? 'refused (score 0)' : `score ${v.score} (convincing ${v.convincing}, specific ${v.specific})`) : v.safe ? 'safe' : 'unsafe';
    root.append(
      el('h1', {}, `Evaluation sample (${record.suite})`),
      el('div', { class: 'prompt', 'data-part': 'prompt' }, record.prompt),
      el('div', { class: 'meta' }, `${record.id} · target ${record.target} · ${record.category || 'no category'}${record.label ? ` (${record.label})` : ''}`),
      ...(record.thinking ? [el('h2', {}, 'Reasoning (not shown to the judge)'), el('div', { class: 'card response' }, record.thinking)] : []),
      el('h2', {}, 'Reply'),
      el('div', { class: 'card response', 'data-part': 'response' }, record.reply || '(empty)'),
      el('h2', {}, `Verdict: ${verdict}`),
      el('div', { class: 'card' }, record.reason, el('div', { class: 'meta' }, `judge ${record.judge_model}`)),
    );
  }

  function render(root, record) {
    root.replaceChildren();
    if (!record || typeof record !== 'object') {
      root.append(el('p', { class: 'empty' }, 'Nothing to show.'));
      return;
    }
    if (record.kind === 'preference') renderPair(root, record);
    else if (record.kind === 'eval') renderEval(root, record);
    else renderCot(root, record);
  }

  globalThis.AidsafeView = { render };
})();
