// The run report's sample list: filters, and a click opens the sample in the deliberation view.
(function () {
  const samples = JSON.parse(document.getElementById('aidsafe-samples').textContent);
  const body = document.querySelector('#samples tbody');
  const detail = document.getElementById('detail');
  const text = document.getElementById('filter-text');
  const status = document.getElementById('filter-status');
  const category = document.getElementById('filter-category');
  const counter = document.getElementById('filter-count');
  const METRICS = ['relevance', 'coherence', 'completeness', 'faithfulness_policy_cot', 'faithfulness_policy_response', 'faithfulness_cot_response'];

  function cell(value) {
    const td = document.createElement('td');
    td.textContent = value === undefined || value === null ? '' : String(value);
    return td;
  }

  const rows = samples.map((sample) => {
    const record = sample.record;
    const tr = document.createElement('tr');
    tr.className = 'sample';
    tr.dataset.index = String(sample.index);
    tr.dataset.status = sample.status;
    tr.dataset.category = sample.category || '(none)';
    const prompt = record ? record.prompt : sample.prompt || '';
    const lowest = record && record.grades ? Math.min(...METRICS.map((m) => record.grades.scores[m])) : '';
    tr.append(
      cell(sample.index),
      cell(prompt.length > 140 ? prompt.slice(0, 139) + '…' : prompt),
      cell(sample.category),
      cell(sample.status),
      cell(record ? record.stop_reason : ''),
      cell(record ? record.deliberation.length : ''),
      cell(lowest),
    );
    tr.addEventListener('click', () => open(sample, tr));
    body.append(tr);
    return { tr, haystack: (prompt + ' ' + (sample.error || '')).toLowerCase(), sample };
  });

  function open(sample, tr) {
    for (const row of rows) row.tr.classList.remove('open');
    tr.classList.add('open');
    detail.hidden = false;
    detail.replaceChildren();
    if (!sample.record) {
      const p = document.createElement('p');
      p.textContent = sample.status === 'failed' ? `Failed: ${sample.error}` : 'Not run yet.';
      if (sample.prompt) {
        const prompt = document.createElement('div');
        prompt.className = 'prompt';
        prompt.textContent = sample.prompt;
        detail.append(prompt);
      }
      detail.append(p);
      return;
    }
    const cot = document.createElement('div');
    globalThis.AidsafeView.render(cot, sample.record);
    detail.append(cot);
    if (sample.pair) {
      const pair = document.createElement('div');
      globalThis.AidsafeView.render(pair, sample.pair);
      detail.append(pair);
    }
    detail.scrollIntoView({ block: 'start' });
  }

  function apply() {
    const needle = text.value.trim().toLowerCase();
    let shown = 0;
    for (const row of rows) {
      const visible =
        (!needle || row.haystack.includes(needle)) &&
        (!status.value || row.sample.status === status.value) &&
        (!category.value || row.tr.dataset.category === category.value);
      row.tr.hidden = !visible;
      if (visible) shown++;
    }
    counter.textContent = `${shown} of ${rows.length} shown`;
  }
  for (const input of [text, status, category]) input.addEventListener('input', apply);
  apply();
})();
