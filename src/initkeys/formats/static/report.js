(function () {
  "use strict";
  var table = document.getElementById("findings-table");
  if (!table || !table.tHead || !table.tBodies.length) { return; }
  var body = table.tBodies[0];
  var heads = table.tHead.rows[0].cells;
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  function value(row, column, numeric) {
    var cell = row.cells[column];
    var text = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent;
    if (text === "" || text === "-") { return null; }
    return numeric ? Number(text) : text;
  }
  function sortBy(column) {
    var th = heads[column];
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var numeric = th.getAttribute("data-type") === "number";
    var direction = ascending ? 1 : -1;
    var rows = Array.prototype.map.call(body.rows, function (row, index) {
      return { key: value(row, column, numeric), index: index, row: row };
    });
    rows.sort(function (a, b) {
      if (a.key === null || b.key === null) {
        if (a.key === b.key) { return a.index - b.index; }
        return a.key === null ? 1 : -1;
      }
      var order = numeric ? a.key - b.key : collator.compare(a.key, b.key);
      return order ? order * direction : a.index - b.index;
    });
    var fragment = document.createDocumentFragment();
    rows.forEach(function (item) { fragment.appendChild(item.row); });
    body.appendChild(fragment);
    Array.prototype.forEach.call(heads, function (other) {
      other.setAttribute("aria-sort", "none");
    });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }
  Array.prototype.forEach.call(heads, function (th, column) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    button.title = "Sort by this column";
    while (th.firstChild) { button.appendChild(th.firstChild); }
    th.appendChild(button);
    th.setAttribute("aria-sort", "none");
    button.addEventListener("click", function () { sortBy(column); });
  });
}());
