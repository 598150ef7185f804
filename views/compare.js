// The comparison report's list of pairs that differ most: a click opens both samples side by side in the deliberation view.
(function () {
  const pairs = JSON.parse(document.getElementById('aidsafe-pairs').textContent);
  const body = document.querySelector('#pairs tbody');
  const detail = document.getElementById('detail');
  const METRICS = ['relevance', 'coherence', 'completeness', 'faithfulness_policy_cot', 'faithfulness_policy_response', 'faithfulness_cot_response'];

  function cell(value) {
    const td = document.createElement('td');
    td.textContent = value === undefined || value === null ? '' : String(value);
    return td;
  }

  const rows = pairs.map((pair, i) => {
    const tr = document.createElement('tr');
    tr.className = 'sample';
    tr.dataset.index = String(i);
    const prompt = pair.a.prompt;
    const scores = (record) => METRICS.map((m) => record.grades.scores[m]).join(' ');
    tr.append(cell(i + 1), cell(prompt.length > 140 ? prompt.slice(0, 139) + '…' : prompt), cell(pair.category), cell(scores(pair.a)), cell(scores(pair.b)), cell(pair.distance));
    tr.addEventListener('click', () => open(pair, tr));
    body.append(tr);
    return tr;
  });

  function side(title, record) {
    const column = document.createElement('div');
    const heading = document.createElement('h3');
    heading.textContent = title;
    const view = document.createElement('div');
    globalThis.AidsafeView.render(view, record);
    column.append(heading, view);
    return column;
  }

  function open(pair, tr) {
    for (const row of rows) row.classList.remove('open');
    tr.classList.add('open');
    detail.hidden = false;
    const grid = document.createElement('div');
    grid.className = 'side-by-side';
    grid.append(side(`A · ${pair.a_label}`, pair.a), side(`B · ${pair.b_label}`, pair.b));
    detail.replaceChildren(grid);
    detail.scrollIntoView({ block: 'start' });
  }
})();
