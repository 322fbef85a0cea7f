// A router that routes nothing: stands in for routers that are not built yet, so the controller
// calls the seam at the right moments whatever the spec names.
import type { RouterFactory } from "./router.ts";

export const noopRouter: RouterFactory = () => ({
  name: "noop",
  setWeight: async () => {},
  setHeaderRoutes: async () => {},
  setMirrorRoutes: async () => {},
  verify: async () => undefined,
  removeManagedRoutes: async () => {},
});
