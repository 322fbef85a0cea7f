// One line per router: the key of spec.strategy.canary.trafficRouting it serves.
import { gatewayRouter } from "./gateway/router.ts";
import { istioRouter } from "./istio/router.ts";
import { nginxRouter } from "./nginx/router.ts";
import type { RouterContext, RouterFactory, TrafficRouter, TrafficRouting } from "./router.ts";
import { smiRouter } from "./smi/router.ts";

type RouterKind = Exclude<keyof TrafficRouting, "managedRoutes">;

const ROUTERS: Record<RouterKind, RouterFactory> = {
  gatewayAPI: gatewayRouter,
  istio: istioRouter,
  nginx: nginxRouter,
  smi: smiRouter,
};

/** The router the Rollout names, or undefined when it has none (weights are replica counts). */
export function routerFor(ctx: RouterContext): TrafficRouter | undefined {
  const routing = ctx.canary.trafficRouting;
  if (!routing) return undefined;
  const kind = (Object.keys(ROUTERS) as RouterKind[]).find((k) => routing[k] !== undefined);
  return kind ? ROUTERS[kind](ctx) : undefined;
}
