-- Argo CD health check for aura-operator.dev/AuraSnapshot.
-- Install it under resource.customizations.health.aura-operator.dev_AuraSnapshot in argocd-cm
-- (deploy/argocd/argocd-cm.yaml). Checks, in order:
--   Ready=True (Aura says Completed)                           -> Healthy
--   Aura says Failed or Cancelled                              -> Degraded
--   Synced=False with a terminal reason                        -> Degraded (no retry can fix it)
--   Synced=False, Planned (reconcile: plan, --dry-run)         -> Suspended (nothing is sent to Aura)
--   otherwise (requested, Pending, InProgress, waiting)        -> Progressing, with the message
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

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = message(ready, "The snapshot is Completed")
  return hs
end

if status.state == "Failed" or status.state == "Cancelled" then
  hs.status = "Degraded"
  hs.message = message(ready, "Aura reports the snapshot as " .. status.state)
  return hs
end

if synced ~= nil and synced.status == "False" and TERMINAL[synced.reason] then
  hs.status = "Degraded"
  hs.message = synced.reason .. ": " .. message(synced, "see the AuraSnapshot's events")
  return hs
end
if synced ~= nil and synced.status == "False" and synced.reason == "Planned" then
  hs.status = "Suspended"
  hs.message = "Planned: " .. message(synced, "plan mode: nothing is sent to Aura")
  return hs
end

hs.status = "Progressing"
hs.message = message(ready, "Waiting for the operator to take the snapshot")
return hs
