// React Flow pieces shared by the live view and the designer: an edge drawn along the route ELK laid out (with its
// label where ELK put it, as large as layout.ts reserved), a straight edge with a midpoint label when there is no route
// (a box the user moved since), and a hook that runs the layout when its input changes.
import { useEffect, useRef, useState, type MouseEvent as ReactMouseEvent } from 'react';
import { BaseEdge, EdgeLabelRenderer, getStraightPath, useReactFlow, type Edge, type EdgeProps } from '@xyflow/react';
import { labelSize, layoutGraph, layoutKey, pathOf, type LayoutInput, type LayoutResult, type Rect, type XY } from './layout';

export type RoutedEdgeData = {
  text: string;
  points?: XY[];
  labelBox?: Rect | null;
  testid?: string;
  onLabelClick?: () => void;
  onLabelContextMenu?: (ev: ReactMouseEvent) => void;
};
export type RoutedEdge = Edge<RoutedEdgeData, 'routed'>;

export function RoutedEdgeView({ id, sourceX, sourceY, targetX, targetY, data, markerEnd, style, interactionWidth }: EdgeProps<RoutedEdge>) {
  const routed = data?.points && data.points.length >= 2;
  let path: string;
  let box: Rect | null = null;
  if (routed) {
    path = pathOf(data!.points!);
    box = data!.labelBox ?? null;
  } else {
    const [p, lx, ly] = getStraightPath({ sourceX, sourceY, targetX, targetY });
    path = p;
    if (data?.text) { const s = labelSize(data.text); box = { x: lx - s.width / 2, y: ly - s.height / 2, ...s }; }
  }
  return (
    <>
      <BaseEdge id={id} path={path} markerEnd={markerEnd} style={style} interactionWidth={interactionWidth ?? 16} />
      {data?.text && box && (
        <EdgeLabelRenderer>
          <div className="elk-label nodrag nopan" data-testid={data.testid} data-routed={routed ? 'true' : 'false'} title={data.text}
               style={{ transform: `translate(${box.x}px, ${box.y}px)`, width: box.width, height: box.height }}
               onClick={data.onLabelClick} onContextMenu={data.onLabelContextMenu}>
            {data.text}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
}
export const edgeTypes = { routed: RoutedEdgeView };

/**
 * The layout of `input`, computed again whenever its key changes (the last one is kept meanwhile); null until the
 * first is ready. `version` counts the layouts (a view fits itself to each new one).
 */
export function useLayout(input: LayoutInput | null): { layout: LayoutResult | null; key: string | null; error: string | null } {
  const key = input ? layoutKey(input) : null;
  const [state, setState] = useState<{ layout: LayoutResult | null; key: string | null; error: string | null }>({ layout: null, key: null, error: null });
  const latest = useRef<string | null>(null);
  useEffect(() => {
    latest.current = key;
    if (!input || key === null) return;
    layoutGraph(input).then(
      layout => { if (latest.current === key) setState({ layout, key, error: null }); },
      e => { if (latest.current === key) setState(s => ({ ...s, error: String((e as Error).message ?? e) })); });
    // input is described by key
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return state;
}

/** Inside a <ReactFlow>: fits the view to the graph each time `token` changes (after React Flow measured the nodes). */
export function FitOnChange({ token }: { token: string | null }) {
  const flow = useReactFlow();
  useEffect(() => {
    if (token === null) return;
    const t = requestAnimationFrame(() => { void flow.fitView({ maxZoom: 1, padding: 0.08 }); });
    return () => cancelAnimationFrame(t);
  }, [token, flow]);
  return null;
}
