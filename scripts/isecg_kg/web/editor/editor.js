// The query page's SPARQL editor: CodeMirror 6 with its SPARQL mode, bracket matching, closing
// brackets, history, and completion of keywords, predeclared prefixes and our vocabulary.
// Bundled at set-up (npm run build-editor, esbuild) into static/editor/editor.js and served from
// this site; the page works without it (a plain textarea). Exposes window.isecgEditor.
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap }
  from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { bracketMatching, defaultHighlightStyle, indentOnInput, StreamLanguage,
  syntaxHighlighting } from "@codemirror/language";
import { sparql } from "@codemirror/legacy-modes/mode/sparql";
import { EditorState } from "@codemirror/state";
import { drawSelection, EditorView, highlightActiveLine, keymap, lineNumbers }
  from "@codemirror/view";

const KEYWORDS = ("SELECT CONSTRUCT DESCRIBE ASK WHERE PREFIX BASE DISTINCT REDUCED FROM NAMED " +
  "OPTIONAL FILTER UNION MINUS GRAPH SERVICE SILENT BIND VALUES AS GROUP BY HAVING ORDER ASC " +
  "DESC LIMIT OFFSET EXISTS NOT IN COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT SEPARATOR STR LANG " +
  "LANGMATCHES DATATYPE BOUND IRI BNODE REGEX CONTAINS STRSTARTS STRENDS LCASE UCASE YEAR MONTH " +
  "DAY NOW COALESCE IF isIRI isLITERAL").split(" ");

function completions(words) {
  const options = [
    ...KEYWORDS.map((k) => ({ label: k, type: "keyword" })),
    ...Object.entries(words.prefixes || {}).map(([p, ns]) => ({ label: p + ":", type: "namespace", detail: ns })),
    ...(words.vocabulary || []).map((t) => ({ label: t, type: "property" })),
  ];
  return (context) => {
    const word = context.matchBefore(/[\w:.-]+/);
    if (!word || (word.from === word.to && !context.explicit)) return null;
    return { from: word.from, options, validFor: /^[\w:.-]*$/ };
  };
}

window.isecgEditor = function (textarea, words) {
  let fromEditor = false;
  const view = new EditorView({
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        lineNumbers(), history(), drawSelection(), highlightActiveLine(), indentOnInput(),
        bracketMatching(), closeBrackets(), EditorView.lineWrapping,
        StreamLanguage.define(sparql), syntaxHighlighting(defaultHighlightStyle),
        EditorView.cspNonce.of(words.nonce || ""),  // the page's CSP allows this <style> only
        autocompletion({ override: [completions(words)] }),
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap,
          ...completionKeymap]),
        EditorView.contentAttributes.of({ "aria-label": "SPARQL query", spellcheck: "false" }),
        EditorView.updateListener.of((u) => {
          if (!u.docChanged) return;
          fromEditor = true;  // the textarea stays the form field the page script reads
          textarea.value = u.state.doc.toString();
          textarea.dispatchEvent(new Event("input", { bubbles: true }));
          fromEditor = false;
        }),
      ],
    }),
  });
  textarea.parentNode.insertBefore(view.dom, textarea);
  textarea.classList.add("q-source");
  // text put into the textarea by the page (a named query, a test) shows in the editor
  textarea.addEventListener("input", () => {
    if (fromEditor || textarea.value === view.state.doc.toString()) return;
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: textarea.value } });
  });
  return view;
};
