-- Argo CD health check for aura-operator.dev/AuraRestore (a one-shot object).
-- Install it under resource.customizations.health.aura-operator.dev_AuraRestore in argocd-cm
-- (deploy/argocd/argocd-cm.yaml). Checks, in order:
--   status.phase Completed                                     -> Healthy
--   status.phase Failed                                        -> Degraded, with the reason
--   Synced=False with a terminal reason                        -> Degraded (no retry can fix it)
--   Synced=False, Planned (reconcile: plan, --dry-run)         -> Suspended (nothing is sent to Aura)
--   otherwise (Pending, SnapshottingTarget, Restoring, ...)    -> Progressing, with the phase
local TERMINAL = { InvalidSpec = true, CredentialsInvalid = true, CreateAmbiguous = true }

local hs = {}
local status = obj.status or {}

local function condition(type)
  for _, c in ipairs(status.conditions or {}) do
    if c.type == type then
      return c
    end
  end
  return nil
end

local function message(c, default)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return default
end

local ready = condition("Ready")
local synced = condition("Synced")

if status.phase == "Completed" then
  hs.status = "Healthy"
  hs.message = message(ready, "The restore is completed")
  return hs
end

if status.phase == "Failed" then
  hs.status = "Degraded"
  local reason = (synced ~= nil and synced.status == "False") and (synced.reason .. ": ") or ""
  hs.message = reason .. message(ready, "The restore failed; see the AuraRestore's events")
  return hs
end

if synced ~= nil and synced.status == "False" and TERMINAL[synced.reason] then
  hs.status = "Degraded"
  hs.message = synced.reason .. ": " .. message(synced, "see the AuraRestore's events")
  return hs
end
if synced ~= nil and synced.status == "False" and synced.reason == "Planned" then
  hs.status = "Suspended"
  hs.message = "Planned: " .. message(synced, "plan mode: nothing is sent to Aura")
  return hs
end

hs.status = "Progressing"
hs.message = (status.phase or "Pending") .. ": " .. message(ready, "waiting for the operator")
return hs
