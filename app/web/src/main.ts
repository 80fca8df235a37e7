/**
 * The page shell the service serves for every page path. The pages themselves (create, presenter, audience)
 * arrive with the rest of issue 14; until then every path shows what it is, and unknown paths the not-found text
 * the service answers them with (status 404).
 */
const app = document.getElementById("app") as HTMLElement;
const heading = document.createElement("h1");
heading.textContent = "Zephyr";
const text = document.createElement("p");
text.textContent =
  document.documentElement.dataset.status === "404" ||
  !/^\/(?:|join|[pj]\/[A-Za-z0-9]{6})$/.test(location.pathname)
    ? "Page not found."
    : "Live polling. The pages for presenters and audiences are being built.";
app.replaceChildren(heading, text);
