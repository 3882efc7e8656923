-- Argo CD health check for aura-operator.dev/AuraInstance.
-- Install it under resource.customizations.health.aura-operator.dev_AuraInstance in argocd-cm
-- (README, "Install with Argo CD"). Checks, in order:
--   being deleted, held by deletion protection                 -> Degraded (someone must set
--                                                                 spec.deletionProtection: false)
--   being deleted                                              -> Progressing
--   Synced=False, terminal reason, for the current generation  -> Degraded (no retry can fix it)
--   Synced=False, Planned (reconcile: plan, or --dry-run)      -> Suspended
--   Synced=False, ReconcilePaused (reconcile: skip annotation) -> Suspended
--   status.observedGeneration behind metadata.generation       -> Progressing
--   the instance is paused                                     -> Suspended
--   Ready=True                                                 -> Healthy
--   otherwise                                                  -> Progressing, with the message
-- Terminal Synced reasons are aura_operator.runtime.conditions.TERMINAL_SYNCED_REASONS.
local TERMINAL = { InvalidSpec = true, CredentialsInvalid = true, CreateAmbiguous = true }

local hs = {}
local status = obj.status or {}
local generation = (obj.metadata or {}).generation

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
  if synced ~= nil and synced.reason == "DeletionProtected" then
    hs.status = "Degraded"
    hs.message = "DeletionProtected: " .. message(synced, "set spec.deletionProtection to false")
    return hs
  end
  hs.status = "Progressing"
  hs.message = message(ready ~= nil and ready.reason == "Deleting" and ready or nil,
    "The AuraInstance is being deleted")
  return hs
end

if synced ~= nil and synced.status == "False" then
  local current = synced.observedGeneration == nil or generation == nil
    or synced.observedGeneration == generation
  if TERMINAL[synced.reason] and current then
    hs.status = "Degraded"
    hs.message = synced.reason .. ": " .. message(synced, "see the AuraInstance's events")
    return hs
  end
  if synced.reason == "Planned" then
    hs.status = "Suspended"
    hs.message = "Planned: " .. message(synced, "plan mode: nothing is sent to Aura")
    return hs
  end
  if synced.reason == "ReconcilePaused" then
    hs.status = "Suspended"
    hs.message = message(synced, "Reconciling is paused by the aura-operator.dev/reconcile annotation")
    return hs
  end
end

if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  local detail = message(synced ~= nil and synced.status == "False" and synced or ready, nil)
  hs.message = "Waiting for the operator to apply generation " .. tostring(generation)
  if detail ~= nil then
    hs.message = hs.message .. ": " .. detail
  end
  return hs
end

if status.state == "paused" or (ready ~= nil and ready.reason == "Paused") then
  hs.status = "Suspended"
  hs.message = message(ready, "The Aura instance is paused")
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = message(ready, "The Aura instance is running")
  return hs
end

hs.status = "Progressing"
if synced ~= nil and synced.status == "False" then
  hs.message = synced.reason .. ": " .. message(synced, "")
else
  hs.message = message(ready, "Waiting for the operator to report the instance")
end
return hs
