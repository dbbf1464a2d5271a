// The class editor dialog: rename, recolour and add classes, saved to the classes file.
// Classes cannot be removed or reordered (saved labels store class numbers).
import { ApiError, getJson, sendJson } from "./api.js";

const $ = (id) => document.getElementById(id);

function editorRow(name, color) {
  const li = document.createElement("li");
  const nameInput = Object.assign(document.createElement("input"), { type: "text", value: name, required: true });
  const colorInput = Object.assign(document.createElement("input"), { type: "color", value: color });
  li.append(colorInput, nameInput);
  return li;
}

function randomColor() {
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.fillStyle = `hsl(${Math.floor(Math.random() * 360)} 80% 50%)`;
  return ctx.fillStyle; // normalised to #rrggbb
}

/**
 * Wire the dialog. getState() returns {classes, classesVersion}; apply(described) takes
 * the server's {version, classes} after a save or a reload.
 */
export function bindClassEditor(getState, apply) {
  const rows = $("class-editor-rows");

  function open() {
    rows.replaceChildren(...getState().classes.map((c) => editorRow(c.name, c.color)));
    $("class-editor-error").textContent = "";
    if (!$("class-editor").open) $("class-editor").showModal();
  }

  async function save() {
    const classes = [...rows.children].map((li) => ({
      name: li.querySelector('input[type="text"]').value.trim(),
      color: li.querySelector('input[type="color"]').value,
    }));
    try {
      apply(await sendJson("/api/classes", "PUT", { version: getState().classesVersion, classes }));
      $("class-editor").close();
    } catch (error) {
      let message = error.message;
      if (error instanceof ApiError && error.status === 409) {
        message = "The classes file changed on disk; the editor now shows it. Apply your changes again.";
        apply(await getJson("/api/classes"));
        open();
      }
      $("class-editor-error").textContent = message;
    }
  }

  $("edit-classes").addEventListener("click", open);
  $("class-add").addEventListener("click", () => rows.append(editorRow(`class ${rows.children.length}`, randomColor())));
  $("class-cancel").addEventListener("click", () => $("class-editor").close());
  $("class-save").addEventListener("click", save);
}
