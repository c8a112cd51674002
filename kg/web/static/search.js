// Search suggestions: concept labels and aliases, then paper titles. Text only (textContent), never HTML.
(function () {
  const input = document.getElementById("search");
  const list = document.getElementById("suggestions");
  if (!input || !list) return;
  let timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2) { list.replaceChildren(); return; }
    timer = setTimeout(async function () {
      const res = await fetch("/api/suggest?q=" + encodeURIComponent(q));
      if (!res.ok) return;
      const items = await res.json();
      list.replaceChildren(...items.map(function (it) {
        const li = document.createElement("li");
        const a = document.createElement("a");
        a.href = "/" + it.kind + "/" + encodeURIComponent(it.id);
        a.textContent = it.label;
        const small = document.createElement("small");
        small.textContent = " " + it.detail;
        a.appendChild(small);
        li.appendChild(a);
        return li;
      }));
    }, 150);
  });
})();
