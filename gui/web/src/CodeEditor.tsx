// A light code editor: a textarea with a line-number gutter, problem markers at their lines (a red dot in the
// gutter, the line highlighted behind the text) and a way to put the cursor on a line. No dependency: a plain
// <textarea> keeps native editing, undo and paste.
import { useEffect, useRef, useState, type UIEvent } from 'react';
import { offsetOf, positionOf } from './scenario';

/** px: the textarea, gutter and highlight layer share it (styles.css .code) */
const LINE_H = 18;
const PAD = 4;

export interface Jump { line: number; column: number; n: number }

export function CodeEditor({ value, onChange, markers, jump, onCursor, testid }: {
  value: string;
  onChange: (text: string) => void;
  /** messages by line (1-based) */
  markers: Map<number, string[]>;
  /** put the cursor there (a new n each time) */
  jump: Jump | null;
  onCursor: (line: number, column: number) => void;
  testid: string;
}) {
  const ta = useRef<HTMLTextAreaElement>(null);
  const [scroll, setScroll] = useState({ top: 0, left: 0 });
  const lines = value.split('\n').length;

  const moveTo = (line: number, column: number) => {
    const t = ta.current;
    if (!t) return;
    const off = offsetOf(t.value, line, column);
    t.focus();
    t.setSelectionRange(off, off);
    t.scrollTop = Math.max(0, (line - 1) * LINE_H - t.clientHeight / 3);
    setScroll({ top: t.scrollTop, left: t.scrollLeft });
    const p = positionOf(t.value, off);
    onCursor(p.line, p.column);
  };
  // a jump is asked for by its n: only a new one moves the cursor
  useEffect(() => { if (jump) moveTo(jump.line, jump.column); }, [jump?.n]);

  const cursor = () => {
    const t = ta.current;
    if (!t) return;
    const p = positionOf(t.value, t.selectionStart);
    onCursor(p.line, p.column);
  };
  const onScroll = (e: UIEvent<HTMLTextAreaElement>) => setScroll({ top: e.currentTarget.scrollTop, left: e.currentTarget.scrollLeft });

  return (
    <div className="code" data-testid={`${testid}-box`}>
      <div className="code-gutter" style={{ lineHeight: `${LINE_H}px`, paddingTop: PAD }}>
        <div style={{ transform: `translateY(${-scroll.top}px)` }}>
          {Array.from({ length: lines }, (_, i) => {
            const msgs = markers.get(i + 1);
            return (
              <div key={i} className={msgs ? 'gl bad' : 'gl'} data-testid={`${testid}-line-${i + 1}`} data-problem={msgs ? 'true' : undefined}
                   title={msgs?.join('\n')} onClick={() => moveTo(i + 1, 1)}>
                {msgs ? '● ' : ''}{i + 1}
              </div>
            );
          })}
        </div>
      </div>
      <div className="code-area">
        <div className="code-marks" style={{ transform: `translateY(${PAD - scroll.top}px)` }}>
          {[...markers.keys()].filter(l => l <= lines).map(l => (
            <div key={l} className="code-mark" data-testid={`${testid}-mark-${l}`} style={{ top: (l - 1) * LINE_H, height: LINE_H }} />
          ))}
        </div>
        <textarea ref={ta} data-testid={testid} value={value} spellCheck={false} wrap="off" autoCapitalize="off" autoComplete="off"
          style={{ lineHeight: `${LINE_H}px`, padding: `${PAD}px 6px` }}
          onChange={e => { onChange(e.target.value); }} onSelect={cursor} onKeyUp={cursor} onClick={cursor} onScroll={onScroll} />
      </div>
    </div>
  );
}
