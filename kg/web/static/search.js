// Search suggestions: concept labels and aliases, then paper titles. Text only (textContent), never HTML.
// Arrow keys move through them (the input keeps the focus; aria-activedescendant names the active one),
// Enter opens the active one, Escape closes the list.
(function () {
  const input = document.getElementById("search");
  const list = document.getElementById("suggestions");
  if (!input || !list) return;
  let timer = null;
  let active = -1;
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-controls", "suggestions");
  input.setAttribute("aria-expanded", "false");
  function items() { return Array.from(list.querySelectorAll("li")); }
  function setActive(i) {
    const lis = items();
    active = lis.length ? (i + lis.length) % lis.length : -1;
    lis.forEach(function (li, k) {
      li.classList.toggle("active", k === active);
      li.setAttribute("aria-selected", k === active ? "true" : "false");
    });
    if (active >= 0) { input.setAttribute("aria-activedescendant", lis[active].id); lis[active].scrollIntoView({ block: "nearest" }); }
    else input.removeAttribute("aria-activedescendant");
  }
  function close() { list.replaceChildren(); active = -1; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant"); }
  input.addEventListener("keydown", function (e) {
    const lis = items();
    if (e.key === "ArrowDown" && lis.length) { e.preventDefault(); setActive(active + 1); }
    else if (e.key === "ArrowUp" && lis.length) { e.preventDefault(); setActive(active < 0 ? lis.length - 1 : active - 1); }
    else if (e.key === "Enter" && active >= 0 && lis[active]) { e.preventDefault(); window.location.href = lis[active].querySelector("a").href; }
    else if (e.key === "Escape") { close(); }
  });
  input.addEventListener("input", function () {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2) { close(); return; }
    timer = setTimeout(async function () {
      const res = await fetch("/api/suggest?q=" + encodeURIComponent(q));
      if (!res.ok) return;
      const found = await res.json();
      list.replaceChildren(...found.map(function (it, k) {
        const li = document.createElement("li");
        li.id = "suggestion-" + k;
        li.setAttribute("role", "option");
        const a = document.createElement("a");
        a.href = "/" + it.kind + "/" + encodeURIComponent(it.id);
        a.tabIndex = -1;
        a.textContent = it.label;
        const small = document.createElement("small");
        small.textContent = " " + it.detail;
        a.appendChild(small);
        li.appendChild(a);
        li.addEventListener("mousemove", function () { if (active !== k) setActive(k); });
        return li;
      }));
      active = -1;
      input.setAttribute("aria-expanded", found.length ? "true" : "false");
      document.body.dataset.suggestions = String(found.length);
    }, 150);
  });
})();
