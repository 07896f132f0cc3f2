// Fills in the page's status box: when the page loaded, and what Ferry answers
// when this page is asked for again with a HEAD request.

const loaded = document.getElementById("loaded");
const head = document.getElementById("head");

loaded.textContent = new Date().toLocaleString();

try {
  const response = await fetch(document.location.href, { method: "HEAD", cache: "no-store" });
  const type = response.headers.get("Content-Type") ?? "no Content-Type";
  head.textContent = `${response.status} ${response.statusText}, ${type}`;
} catch (error) {
  head.textContent = `HEAD request failed: ${error.message}`;
}
