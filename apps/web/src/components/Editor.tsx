/**
 * The scenario editor: CodeMirror 6 with the scenario highlighting, the run's problem as an inline
 * diagnostic at its line and column, and the current step's line marked.
 */
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { type Diagnostic, lintGutter, setDiagnostics } from '@codemirror/lint';
import { EditorState, RangeSetBuilder, StateEffect, StateField } from '@codemirror/state';
import { Decoration, type DecorationSet, EditorView, keymap, lineNumbers } from '@codemirror/view';
import { useEffect, useRef } from 'react';
import { scenarioLanguage } from '../model/language';
import type { SessionProblem } from '../model/session';

const setStepLine = StateEffect.define<number>();
const stepLineMark = Decoration.line({ class: 'cm-step-line' });

/** The line of the current step, marked so the reader sees which statement the graph shows. */
const stepLineField = StateField.define<{ line: number; deco: DecorationSet }>({
  create: () => ({ line: 0, deco: Decoration.none }),
  update(value, tr) {
    let line = value.line;
    for (const e of tr.effects) if (e.is(setStepLine)) line = e.value;
    if (line === value.line && !tr.docChanged) return value;
    const b = new RangeSetBuilder<Decoration>();
    if (line >= 1 && line <= tr.state.doc.lines) {
      const l = tr.state.doc.line(line);
      b.add(l.from, l.from, stepLineMark);
    }
    return { line, deco: b.finish() };
  },
  provide: (f) => EditorView.decorations.from(f, (v) => v.deco),
});

/** The diagnostic for a run problem, clamped to the document (the text may have changed since). */
export function diagnosticFor(state: EditorState, p: SessionProblem): Diagnostic {
  const line = state.doc.line(Math.min(Math.max(1, p.line), state.doc.lines));
  const from = Math.min(line.from + p.column - 1, line.to);
  const to = Math.max(from, Math.min(line.from + p.endColumn - 1, line.to));
  return {
    from,
    to: to === from && to < line.to ? to + 1 : to,
    severity: p.kind === 'internal' ? 'warning' : 'error',
    message: p.message,
  };
}

export interface EditorProps {
  text: string;
  onChange: (text: string) => void;
  problem: SessionProblem | null;
  /** Source line of the current step (0: none). */
  stepLine: number;
}

export function Editor({ text, onChange, problem, stepLine }: EditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const change = useRef(onChange);
  change.current = onChange;

  // The view is created once, with the text of the first render; later text arrives through the effect below.
  // biome-ignore lint/correctness/useExhaustiveDependencies: created once
  useEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: text,
        extensions: [
          lineNumbers(),
          history(),
          keymap.of([...defaultKeymap, ...historyKeymap]),
          scenarioLanguage,
          syntaxHighlighting(defaultHighlightStyle),
          lintGutter(),
          stepLineField,
          // Long comments wrap instead of running off the pane.
          EditorView.lineWrapping,
          EditorView.contentAttributes.of({ 'aria-label': 'scenario' }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) change.current(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    return () => v.destroy();
  }, []);

  // Text replaced from outside (an example, a file, the kernel choice, a shared link).
  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== text) {
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: text } });
    }
  }, [text]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    v.dispatch(setDiagnostics(v.state, problem ? [diagnosticFor(v.state, problem)] : []));
  }, [problem]);

  useEffect(() => {
    view.current?.dispatch({ effects: setStepLine.of(stepLine) });
  }, [stepLine]);

  return <div className="editor" data-testid="editor" ref={host} />;
}
