-- Argo CD health check for ramp.dev Rollouts (argocd-cm: resource.customizations.health.ramp.dev_Rollout).
-- Reads what the controller reports: status.observedGeneration, the kstatus conditions (Stalled,
-- Ready) and status.phase (an invalid spec is Degraded and Stalled); Paused is Argo CD's Suspended.
-- Written for Argo CD's Lua (gopher-lua, 5.1); tested with Debian's lua5.4 (test/gitops.test.ts).
local hs = {}

local function condition(kind)
  local conditions = obj.status and obj.status.conditions or {}
  for _, c in ipairs(conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

local function said(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  if obj.status.message ~= nil and obj.status.message ~= "" then
    return obj.status.message
  end
  return fallback
end

if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Ramp controller to report a status"
  return hs
end

local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and obj.status.observedGeneration ~= generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the Ramp controller to observe generation " .. tostring(generation)
  return hs
end

local stalled = condition("Stalled")
if (stalled ~= nil and stalled.status == "True") or obj.status.phase == "Degraded" then
  hs.status = "Degraded"
  hs.message = said(stalled, "Rollout is degraded")
  return hs
end

if obj.status.phase == "Paused" then
  hs.status = "Suspended"
  hs.message = said(nil, "Rollout is paused")
  return hs
end

local ready = condition("Ready")
if obj.status.phase == "Healthy" and (ready == nil or ready.status == "True") then
  hs.status = "Healthy"
  hs.message = said(ready, "Rollout is healthy")
  return hs
end

hs.status = "Progressing"
hs.message = said(condition("Reconciling"), "Rollout is progressing")
return hs
