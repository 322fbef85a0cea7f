// The job provider's JobApi over the apiserver: create (or find) a Job, watch that one Job until a
// predicate holds, delete it with its pods. The watch is on the single Job (a field selector), from
// the resourceVersion just read, so no change between the read and the watch is missed.
import { setTimeout as sleep } from "node:timers/promises";
import { isAlreadyExists, type KubeClient, KubeError } from "../../../kube/client.ts";
import type { JobApi, JobObject } from "../../types.ts";

export function kubeJobs(client: KubeClient): JobApi {
  const get = (namespace: string, name: string) => client.get<JobObject>("batch/v1", "Job", name, namespace);
  return {
    async createOrGet(job) {
      try {
        return await client.create(job);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        return get(job.metadata.namespace as string, job.metadata.name as string);
      }
    },

    async waitFor(namespace, name, done, signal) {
      const path = await client.path("batch/v1", "Job", namespace);
      for (;;) {
        signal.throwIfAborted();
        const job = await get(namespace, name);
        if (done(job)) return job;
        const stop = new AbortController();
        const both = AbortSignal.any([signal, stop.signal]);
        let found: JobObject | undefined;
        let gone = false;
        const query = new URLSearchParams({
          watch: "true",
          fieldSelector: `metadata.name=${name}`,
          resourceVersion: String(job.metadata.resourceVersion ?? ""),
          allowWatchBookmarks: "false",
        });
        const failed = await client
          .watch(
            `${path}?${query}`,
            (event) => {
              const obj = event.object as JobObject;
              if (event.type === "DELETED") gone = true;
              else if ((event.type === "ADDED" || event.type === "MODIFIED") && done(obj)) found = obj;
              if (found || gone) stop.abort();
            },
            both,
          )
          .then(
            () => undefined,
            (err: unknown) => err,
          );
        if (found) return found;
        if (gone) throw new Error(`Job ${namespace}/${name} was deleted while it ran`);
        signal.throwIfAborted();
        // A refusal will not pass by itself; 410 Gone and dropped connections: read the Job again
        // and watch from there, a second later (no hot loop against a failing apiserver).
        if (failed instanceof KubeError && [401, 403, 404].includes(failed.status)) throw failed;
        if (failed) await sleep(1000, undefined, { signal });
      }
    },

    delete: (namespace, name) => client.delete("batch/v1", "Job", name, namespace),
  };
}
