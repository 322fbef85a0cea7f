// core/v1 Events about an object, as Ramp's controller records them.
import type { KubeObject } from "./client.ts";

export interface EventAbout {
  involved: { apiVersion: string; kind: string; name: string; namespace: string; uid?: string | undefined };
  reason: string;
  message: string;
  warning?: boolean | undefined;
  /** Which replica recorded it. */
  instance: string;
}

export function eventObject({ involved, reason, message, warning, instance }: EventAbout): KubeObject {
  const now = new Date().toISOString();
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { generateName: `${involved.name}.`, namespace: involved.namespace },
    involvedObject: involved,
    reason,
    message,
    type: warning ? "Warning" : "Normal",
    source: { component: "ramp-controller" },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    reportingComponent: "ramp.dev/controller",
    reportingInstance: instance,
  };
}
