/**
 * The browsable API reference: one self-contained page (no CDN, no external assets) that fetches
 * openapi.json from the same directory and lists the paths, methods, parameters and schemas.
 */
export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>paas API reference</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d2430; background: #f7f8fa; }
  header { background: #1d2430; color: #fff; padding: 14px 24px; }
  header h1 { margin: 0; font-size: 20px; }
  header p { margin: 4px 0 0; color: #c9d1dc; font-size: 13px; }
  main { max-width: 1100px; margin: 0 auto; padding: 16px 24px 48px; }
  #filter { width: 100%; padding: 8px 10px; font-size: 15px; border: 1px solid #c5ccd6; border-radius: 6px; box-sizing: border-box; }
  h2 { margin: 28px 0 8px; font-size: 17px; text-transform: capitalize; border-bottom: 1px solid #dde2e8; padding-bottom: 4px; }
  details { background: #fff; border: 1px solid #dde2e8; border-radius: 6px; margin: 6px 0; }
  summary { cursor: pointer; padding: 8px 12px; display: flex; gap: 10px; align-items: baseline; }
  .m { font: bold 12px ui-monospace, monospace; padding: 2px 6px; border-radius: 4px; color: #fff; min-width: 52px; text-align: center; }
  .GET { background: #2f7bd8; } .POST { background: #2c9a5b; } .PUT { background: #b07a16; } .PATCH { background: #8a5bd6; } .DELETE { background: #c8413a; }
  .p { font: 14px ui-monospace, monospace; }
  .s { color: #5a6572; }
  .lock { margin-left: auto; font-size: 12px; color: #5a6572; }
  .body { padding: 4px 16px 12px; border-top: 1px solid #eef1f4; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eef1f4; vertical-align: top; }
  pre { background: #f1f3f6; padding: 8px; border-radius: 4px; overflow: auto; font-size: 12px; max-height: 420px; }
  h4 { margin: 12px 0 4px; font-size: 13px; }
  #error { color: #c8413a; }
</style>
</head>
<body>
<header><h1>paas controller API</h1><p id="info">loading openapi.json…</p></header>
<main>
  <input id="filter" type="search" placeholder="filter by path, method or summary" aria-label="filter">
  <p id="error"></p>
  <div id="ops"></div>
  <h2>Schemas</h2>
  <div id="schemas"></div>
</main>
<script>
(function () {
  'use strict';
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { if (k === 'text') node.textContent = attrs[k]; else node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  function pre(value) { return el('pre', { text: JSON.stringify(value, null, 2) }); }
  function table(head, rows) {
    return el('table', {}, [el('tr', {}, head.map(function (h) { return el('th', { text: h }); }))].concat(
      rows.map(function (r) { return el('tr', {}, r.map(function (c) { return el('td', { text: c }); })); })));
  }
  function render(doc) {
    document.getElementById('info').textContent = (doc.info.title || '') + ' ' + (doc.info.version ? 'v' + doc.info.version : '') + ': ' + (doc.info.description || '');
    var byTag = {};
    Object.keys(doc.paths).forEach(function (path) {
      Object.keys(doc.paths[path]).forEach(function (method) {
        var op = doc.paths[path][method];
        var tag = (op.tags && op.tags[0]) || 'other';
        (byTag[tag] = byTag[tag] || []).push({ path: path, method: method.toUpperCase(), op: op });
      });
    });
    var ops = document.getElementById('ops');
    Object.keys(byTag).sort().forEach(function (tag) {
      ops.appendChild(el('h2', { text: tag }));
      byTag[tag].forEach(function (e) {
        var op = e.op;
        var body = el('div', { class: 'body' }, [
          op.description ? el('p', { text: op.description }) : null,
          op.parameters ? el('h4', { text: 'Parameters' }) : null,
          op.parameters ? table(['name', 'in', 'required', 'description'], op.parameters.map(function (p) {
            return [p.name, p.in, p.required ? 'yes' : 'no', p.description || (p.schema && p.schema.type) || ''];
          })) : null,
          op.requestBody ? el('h4', { text: 'Request body (application/json)' }) : null,
          op.requestBody ? pre(op.requestBody.content['application/json'].schema) : null,
          el('h4', { text: 'Responses' }),
          table(['status', 'description', 'schema'], Object.keys(op.responses).map(function (status) {
            var r = op.responses[status];
            var content = r.content && (r.content['application/json'] || r.content['text/html']);
            return [status, r.description || '', content ? JSON.stringify(content.schema) : ''];
          })),
        ]);
        var d = el('details', { 'data-search': (e.method + ' ' + e.path + ' ' + (op.summary || '')).toLowerCase() }, [
          el('summary', {}, [
            el('span', { class: 'm ' + e.method, text: e.method }),
            el('span', { class: 'p', text: e.path }),
            el('span', { class: 's', text: op.summary || '' }),
            el('span', { class: 'lock', text: op.security && op.security.length === 0 ? 'public' : 'token' }),
          ]),
          body,
        ]);
        ops.appendChild(d);
      });
    });
    var schemas = document.getElementById('schemas');
    Object.keys((doc.components && doc.components.schemas) || {}).sort().forEach(function (name) {
      schemas.appendChild(el('details', { id: 'schema-' + name }, [el('summary', {}, [el('span', { class: 'p', text: name })]), el('div', { class: 'body' }, [pre(doc.components.schemas[name])])]));
    });
    document.getElementById('filter').addEventListener('input', function (ev) {
      var q = ev.target.value.toLowerCase();
      Array.prototype.forEach.call(ops.querySelectorAll('details'), function (d) { d.style.display = d.getAttribute('data-search').indexOf(q) >= 0 ? '' : 'none'; });
    });
  }
  fetch('openapi.json').then(function (res) {
    if (!res.ok) throw new Error('GET openapi.json answered ' + res.status);
    return res.json();
  }).then(render).catch(function (err) { document.getElementById('error').textContent = String(err); });
})();
</script>
</body>
</html>
`;
