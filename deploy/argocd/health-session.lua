-- Argo CD health check for aura-operator.dev/AuraGraphAnalyticsSession.
-- Install it under resource.customizations.health.aura-operator.dev_AuraGraphAnalyticsSession
-- in argocd-cm (deploy/argocd/argocd-cm.yaml). Checks, in order:
--   being deleted                                              -> Progressing
--   Synced=False with a terminal reason                        -> Degraded (no retry can fix it)
--   Synced=False, ReconcilePaused (reconcile: skip annotation) -> Suspended
--   Ready=True (Aura says Ready)                               -> Healthy
--   phase Failed                                               -> Degraded
--   phase Expired, spec.renew Never (or unset)                 -> Suspended (nothing renews it)
--   otherwise (Creating, being renewed, waiting)               -> Progressing, with the message
local TERMINAL = { InvalidSpec = true, CredentialsInvalid = true, CreateAmbiguous = true }

local hs = {}
local status = obj.status or {}
local spec = obj.spec or {}

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

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = message(ready ~= nil and ready.reason == "Deleting" and ready or nil,
    "The session is being deleted")
  return hs
end

if synced ~= nil and synced.status == "False" then
  if TERMINAL[synced.reason] then
    hs.status = "Degraded"
    hs.message = synced.reason .. ": " .. message(synced, "see the session's events")
    return hs
  end
  if synced.reason == "ReconcilePaused" then
    hs.status = "Suspended"
    hs.message = message(synced, "Reconciling is paused by the aura-operator.dev/reconcile annotation")
    return hs
  end
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = message(ready, "The session is Ready")
  return hs
end

if status.phase == "Failed" then
  hs.status = "Degraded"
  hs.message = message(ready, "Aura reports the session as Failed")
  return hs
end

if status.phase == "Expired" and spec.renew ~= "OnExpiry" then
  hs.status = "Suspended"
  hs.message = message(ready, "The session expired; spec.renew is Never")
  return hs
end

hs.status = "Progressing"
hs.message = (status.phase or "Pending") .. ": " .. message(ready, "waiting for the operator")
return hs
