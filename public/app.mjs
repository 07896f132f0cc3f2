// The sample site's own check of what the browser did with it. Each result goes into
// the status list of index.html, with data-check="ok" or "fail", so a person reads it
// and the browser test (Tests/FerryIntegrationTests/Serve/BrowserTests.swift) checks it.

function report(id, ok, text) {
  const field = document.getElementById(id);
  field.dataset.check = ok ? "ok" : "fail";
  field.textContent = text;
}

// This line runs only if the browser accepted this file as a module script, which it
// does only for a JavaScript Content-Type.
report("check-script", true, "ran as a module (text/javascript)");

// The stylesheet sets the page's paper colour; an unstyled page is white.
const background = getComputedStyle(document.body).backgroundColor;
report("check-style", background === "rgb(248, 246, 240)", `applied: background ${background}`);

// Both images decoded: the PNG logo and the SVG diagram.
const images = [document.getElementById("logo"), document.getElementById("diagram")];
try {
  await Promise.all(images.map((image) => image.decode()));
  const sizes = images.map((image) => `${image.src.split("/").pop()} ${image.naturalWidth}×${image.naturalHeight}`);
  report("check-images", images.every((image) => image.naturalWidth > 0), `decoded: ${sizes.join(", ")}`);
} catch (error) {
  report("check-images", false, `not decoded: ${error.message}`);
}

// This script came compressed when fewer bytes crossed the wire than it has.
const entry = performance.getEntriesByType("resource").find((resource) => resource.name.endsWith("/app.mjs"));
if (entry && entry.encodedBodySize > 0) {
  const compressed = entry.encodedBodySize < entry.decodedBodySize;
  report("check-precompressed", compressed,
    `app.mjs: ${entry.encodedBodySize} bytes on the wire for ${entry.decodedBodySize}` +
    (compressed ? " (a sidecar was sent)" : " (sent as is)"));
} else {
  report("check-precompressed", false, "no resource timing for app.mjs");
}

try {
  const response = await fetch(document.location.href, { method: "HEAD", cache: "no-store" });
  const type = response.headers.get("Content-Type") ?? "no Content-Type";
  report("check-head", response.ok, `${response.status} ${response.statusText}, ${type}`);
} catch (error) {
  report("check-head", false, `HEAD request failed: ${error.message}`);
}
