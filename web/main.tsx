// The dashboard's page: a list of Rollouts and one Rollout's page, each fed by a server-sent event
// stream (the server pushes the whole view again on every change; the page never polls).
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./style.css";
import type { ActionAnswer, WhoAmI } from "../src/dashboard/server.ts";
import type { HistoryPoint, MetricChart, RolloutDetail, RolloutRow, RunDetail } from "../src/dashboard/view.ts";

interface ListStream {
  rollouts: RolloutRow[];
  synced: boolean;
  issues: string[];
}
interface DetailStream {
  synced: boolean;
  issues: string[];
  rollout: RolloutDetail | null;
}

/** The latest view an event stream pushed; undefined until the first arrives. */
function useStream<T>(url: string): { data: T | undefined; connected: boolean } {
  const [data, setData] = useState<T>();
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    setData(undefined);
    const source = new EventSource(url);
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    source.onmessage = (e: MessageEvent<string>) => setData(JSON.parse(e.data) as T);
    return () => source.close();
  }, [url]);
  return { data, connected };
}

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return hash;
}

/** The local clock, for ages (a timer on the page; it asks the server nothing). */
function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

function age(created: string | undefined, now: number): string {
  if (!created) return "";
  const s = Math.max(0, Math.floor((now - Date.parse(created)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

const Phase = ({ phase }: { phase: string }) => (
  <span class={`phase phase-${phase}`} data-testid="phase">
    {phase}
  </span>
);

function Issues({ issues, connected }: { issues: string[]; connected: boolean }) {
  if (connected && !issues.length) return null;
  return (
    <div class="issues" role="alert">
      {!connected && <p>Not connected to the dashboard's server; the browser reconnects by itself.</p>}
      {issues.map((i) => (
        <p key={i}>{i}</p>
      ))}
    </div>
  );
}

function ListPage() {
  const { data, connected } = useStream<ListStream>("/api/stream");
  const now = useNow();
  if (!data) return <p class="muted">Loading…</p>;
  const byNamespace = Map.groupBy(data.rollouts, (r) => r.namespace);
  return (
    <main>
      <h1>Rollouts</h1>
      <Issues issues={data.issues} connected={connected} />
      {!data.rollouts.length && <p class="muted">{data.synced ? "No rollouts." : "Listing rollouts…"}</p>}
      {[...byNamespace].map(([namespace, rows]) => (
        <section key={namespace} data-testid={`namespace-${namespace}`}>
          <h2>{namespace}</h2>
          <table class="rollouts">
            <thead>
              <tr>
                <th>Name</th>
                <th>Strategy</th>
                <th>Phase</th>
                <th>Step</th>
                <th>Weight</th>
                <th>Age</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.name} data-testid="rollout-row" data-name={r.name}>
                  <td>
                    <a href={`#/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}`}>{r.name}</a>
                  </td>
                  <td>{r.strategy}</td>
                  <td>
                    <Phase phase={r.phase} />
                  </td>
                  <td>{r.step}</td>
                  <td>{r.weight === undefined ? "" : `${r.weight}%`}</td>
                  <td>{age(r.created, now)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </main>
  );
}

/** A uPlot chart; made again when its series change, otherwise given the new data. */
function Plot({
  series,
  data,
  testid,
  attrs,
  axes = [{}, { size: 50 }],
  scales = {},
}: {
  series: uPlot.Series[];
  data: uPlot.AlignedData;
  testid: string;
  attrs: Record<string, string>;
  axes?: uPlot.Axis[];
  scales?: uPlot.Scales;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot>(undefined);
  const shape = series.map((s) => s.label).join("|");
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const chart = new uPlot(
      {
        width: Math.max(320, element.clientWidth || 640),
        height: 220,
        series: [{}, ...series],
        scales: { x: { time: true }, ...scales },
        axes,
        legend: { live: false },
      },
      data,
      element,
    );
    plot.current = chart;
    return () => {
      chart.destroy();
      plot.current = undefined;
    };
    // Made again only when the series change; new data goes through setData below.
  }, [shape]);
  useEffect(() => plot.current?.setData(data), [data]);
  return <div ref={box} class="plot" data-testid={testid} {...attrs} />;
}

function WeightChart({ history, now }: { history: HistoryPoint[]; now: number }) {
  const last = history.at(-1);
  // The line runs on to now: the weight holds until it changes.
  const points = last ? [...history, { ...last, t: Math.max(now, last.t) }] : [];
  const data: uPlot.AlignedData = [points.map((p) => p.t / 1000), points.map((p) => p.weight), points.map((p) => p.step)];
  return (
    <Plot
      testid="weight-chart"
      attrs={{
        "data-weight": String(last?.weight ?? ""),
        "data-step": String(last?.step ?? ""),
        "data-points": String(history.length),
      }}
      series={[
        { label: "canary weight %", stroke: "#2f6fde", width: 2, paths: uPlot.paths.stepped?.({ align: 1 }) },
        { label: "step", scale: "step", stroke: "#b0b0b0", dash: [4, 4], paths: uPlot.paths.stepped?.({ align: 1 }) },
      ]}
      scales={{ y: { range: [0, 100] }, step: { range: (_u, _min, max) => [0, Math.max(1, max)] } }}
      axes={[
        {},
        { size: 50, values: (_u, ticks) => ticks.map((t) => `${t}%`) },
        { scale: "step", side: 1, grid: { show: false }, incrs: [1], label: "step" },
      ]}
      data={data}
    />
  );
}

function Steps({ detail }: { detail: RolloutDetail }) {
  const { steps, stepIndex } = detail.view;
  if (!steps.length) return <p class="muted">No steps: the new revision takes all traffic once ready.</p>;
  return (
    <ol class="steps" data-testid="steps" data-current={stepIndex}>
      {steps.map((step, i) => (
        <li
          key={`${i}-${step}`}
          class={i < stepIndex ? "done" : i === stepIndex ? "current" : ""}
          data-testid={i === stepIndex ? "current-step" : undefined}
        >
          {i === stepIndex ? "▶ " : ""}
          {step}
        </li>
      ))}
      {stepIndex >= steps.length && (
        <li class="current" data-testid="current-step">
          ▶ all steps done
        </li>
      )}
    </ol>
  );
}

function ReplicaSets({ detail }: { detail: RolloutDetail }) {
  return (
    <table data-testid="replicasets">
      <thead>
        <tr>
          <th>Revision</th>
          <th>Hash</th>
          <th>Role</th>
          <th>Images</th>
          <th>Ready</th>
          <th>Pods</th>
        </tr>
      </thead>
      <tbody>
        {detail.view.replicaSets.map((rs) => (
          <tr key={rs.hash}>
            <td>{rs.revision}</td>
            <td>
              <code>{rs.hash}</code>
            </td>
            <td>{rs.role}</td>
            <td>{rs.images}</td>
            <td>
              {rs.ready}/{rs.desired}
            </td>
            <td>
              {(detail.pods[rs.hash] ?? []).map((p) => (
                <span
                  key={p.name}
                  class={`pod ${p.ready ? "ready" : "unready"}`}
                  title={`${p.name}: ${p.phase}${p.ready ? ", ready" : ", not ready"}`}
                />
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const THRESHOLD_COLOURS = { success: "#2e9e44", failure: "#d43c3c" };

function Metric({ metric }: { metric: MetricChart }) {
  const xs = metric.points.map((p) => p.t / 1000);
  const data: uPlot.AlignedData = [xs, metric.points.map((p) => p.value), ...metric.thresholds.map((t) => xs.map(() => t.value))];
  const conditions = [
    metric.successCondition && `success: ${metric.successCondition}`,
    metric.failureCondition && `failure: ${metric.failureCondition}`,
  ].filter(Boolean);
  return (
    <div class="metric">
      <h4>
        {metric.name} <Phase phase={metric.phase} />
      </h4>
      <p class="conditions" data-testid="conditions">
        {conditions.join(" · ") || "no condition (decided by its provider)"}
        {!metric.thresholds.length && conditions.length ? " (not a simple comparison: no threshold line)" : ""}
      </p>
      <Plot
        testid="metric-chart"
        attrs={{
          "data-metric": metric.name,
          "data-values": metric.points.map((p) => (p.value === null ? "" : String(p.value))).join(","),
          "data-thresholds": metric.thresholds.map((t) => `${t.op}${t.value}`).join(","),
        }}
        series={[
          { label: "measured", stroke: "#2f6fde", width: 2, points: { show: true, size: 6 } },
          ...metric.thresholds.map((t) => ({
            label: `${t.condition} threshold ${t.op} ${t.value}`,
            stroke: THRESHOLD_COLOURS[t.condition],
            dash: [6, 4],
          })),
        ]}
        data={data}
      />
      {metric.message && <p class="muted">{metric.message}</p>}
    </div>
  );
}

function Runs({ runs }: { runs: RunDetail[] }) {
  if (!runs.length) return <p class="muted">No analysis runs.</p>;
  return (
    <div>
      {runs.map((run) => (
        <section key={run.name} class="run" data-testid="analysis-run" data-name={run.name}>
          <h3>
            {run.name} <span class="muted">{run.role}</span> <Phase phase={run.phase} />
          </h3>
          {run.message && <p class="muted">{run.message}</p>}
          {run.metrics.map((m) => (
            <Metric key={m.name} metric={m} />
          ))}
        </section>
      ))}
    </div>
  );
}

function Events({ detail }: { detail: RolloutDetail }) {
  if (!detail.events.length) return <p class="muted">No events.</p>;
  return (
    <ul class="events" data-testid="events">
      {detail.events.map((e) => (
        <li key={`${e.time}-${e.reason}-${e.about}-${e.message}`} class={e.type === "Warning" ? "warning" : ""}>
          <time>{new Date(e.time).toLocaleTimeString()}</time> <strong>{e.reason}</strong> <span class="muted">{e.about}</span>{" "}
          {e.message}
          {e.count > 1 ? <span class="muted"> ×{e.count}</span> : null}
        </li>
      ))}
    </ul>
  );
}

const ACTIONS: { action: string; label: string; explains: string }[] = [
  { action: "promote", label: "Promote", explains: "go past the current pause or analysis step" },
  { action: "promote-full", label: "Promote full", explains: "skip every remaining step: the new revision at once" },
  { action: "abort", label: "Abort", explains: "traffic and pods go back to the stable revision" },
  { action: "retry", label: "Retry", explains: "start the aborted update again from its first step" },
  { action: "pause", label: "Pause", explains: "stop progressing until resumed" },
  { action: "resume", label: "Resume", explains: "carry on after a pause" },
  { action: "undo", label: "Undo", explains: "go back to the previous revision's pod template" },
];

function Actions({ namespace, name }: { namespace: string; name: string }) {
  const [asking, setAsking] = useState<(typeof ACTIONS)[number]>();
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<ActionAnswer>();
  const run = async (action: string) => {
    setBusy(true);
    try {
      const res = await fetch(`/api/rollouts/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${action}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      setAnswer((await res.json()) as ActionAnswer);
    } catch (err) {
      setAnswer({ ok: false, status: 0, message: `no answer from the dashboard's server: ${(err as Error).message}` });
    } finally {
      setBusy(false);
      setAsking(undefined);
    }
  };
  return (
    <div class="actions">
      {ACTIONS.map((a) => (
        <button
          type="button"
          key={a.action}
          data-action={a.action}
          title={a.explains}
          disabled={busy}
          onClick={() => setAsking(a)}
        >
          {a.label}
        </button>
      ))}
      {answer && (
        <div class={`answer ${answer.ok ? "ok" : "error"}`} data-testid="answer" data-status={answer.status} role="status">
          {answer.ok ? "" : `${answer.status || "error"}: `}
          {answer.message}
        </div>
      )}
      {asking && (
        <div class="modal" role="dialog" aria-modal="true" data-testid="confirm-dialog">
          <div class="modal-box">
            <p>
              <strong>{asking.label}</strong> rollout{" "}
              <code>
                {namespace}/{name}
              </code>
              ?
            </p>
            <p class="muted">{asking.explains}</p>
            <button type="button" data-testid="confirm" disabled={busy} onClick={() => void run(asking.action)}>
              {asking.label}
            </button>{" "}
            <button type="button" data-testid="cancel" disabled={busy} onClick={() => setAsking(undefined)}>
              Cancel
            </button>
          </div>
        </div>
      )}
    </div>
  );
}

function RolloutPage({ namespace, name }: { namespace: string; name: string }) {
  const { data, connected } = useStream<DetailStream>(`/api/stream/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`);
  const now = useNow(5000);
  const back = <a href="#/">← all rollouts</a>;
  if (!data)
    return (
      <main>
        {back}
        <p class="muted">Loading…</p>
      </main>
    );
  const detail = data.rollout;
  if (!detail)
    return (
      <main>
        {back}
        <Issues issues={data.issues} connected={connected} />
        <p>{data.synced ? `No rollout ${namespace}/${name}.` : "Listing rollouts…"}</p>
      </main>
    );
  const v = detail.view;
  return (
    <main>
      {back}
      <h1>
        {v.name} <span class="muted">{v.namespace}</span> <Phase phase={v.phase} />
        {detail.paused && <span class="badge">paused</span>}
        {detail.aborted && <span class="badge warning">aborted</span>}
      </h1>
      <Issues issues={data.issues} connected={connected} />
      <p data-testid="message">{v.message}</p>
      <p class="muted">
        {v.strategy} · {v.images} · {v.ready}/{v.desired} ready{v.weight !== undefined ? ` · canary weight ${v.weight}%` : ""}
      </p>
      <Actions namespace={v.namespace} name={v.name} />
      <div class="columns">
        <section>
          <h2>Steps</h2>
          <Steps detail={detail} />
        </section>
        <section class="wide">
          <h2>Canary weight</h2>
          {v.weight === undefined ? (
            <p class="muted">Blue-green: no weights.</p>
          ) : (
            <WeightChart history={detail.history} now={now} />
          )}
        </section>
      </div>
      <h2>ReplicaSets</h2>
      <ReplicaSets detail={detail} />
      <h2>Analysis</h2>
      <Runs runs={detail.runs} />
      <h2>Events</h2>
      <Events detail={detail} />
    </main>
  );
}

/** In the cluster: a bearer token to act as (the server checks it, then sets a cookie). */
function Login({ done }: { done: (who: WhoAmI) => void }) {
  const [token, setToken] = useState("");
  const [refusal, setRefusal] = useState<string>();
  const submit = async (e: Event) => {
    e.preventDefault();
    const res = await fetch("/api/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: token.trim() }),
    });
    const body = (await res.json()) as WhoAmI | ActionAnswer;
    if (res.ok) done(body as WhoAmI);
    else setRefusal(`${res.status}: ${(body as ActionAnswer).message}`);
  };
  return (
    <main>
      <h1>Ramp dashboard</h1>
      <form onSubmit={(e) => void submit(e)} class="login">
        <p>
          Sign in with a Kubernetes bearer token; you may do here what your RBAC lets you do (
          <code>kubectl create token NAME</code>).
        </p>
        <textarea data-testid="token" rows={4} value={token} onInput={(e) => setToken((e.target as HTMLTextAreaElement).value)} />
        <p>
          <button type="submit" data-testid="sign-in">
            Sign in
          </button>
        </p>
        {refusal && (
          <div class="answer error" role="status">
            {refusal}
          </div>
        )}
      </form>
    </main>
  );
}

function App() {
  const hash = useHash();
  const [who, setWho] = useState<WhoAmI | "login">();
  useEffect(() => {
    void fetch("/api/whoami").then(async (res) => setWho(res.status === 401 ? "login" : ((await res.json()) as WhoAmI)));
  }, []);
  if (!who) return <p class="muted">Loading…</p>;
  if (who === "login") return <Login done={setWho} />;
  const [namespace, name] = hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  return (
    <>
      {who.mode === "token" && (
        <p class="who muted" data-testid="who">
          signed in as {who.username}
        </p>
      )}
      {namespace && name ? <RolloutPage namespace={namespace} name={name} /> : <ListPage />}
    </>
  );
}

const root = document.getElementById("app");
if (root) render(<App />, root);
