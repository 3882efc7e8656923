-- Argo CD health check for aura-operator.dev/AuraCredential and AuraCustomerManagedKey.
-- Install it under resource.customizations.health.aura-operator.dev_AuraCredential and
-- ..._AuraCustomerManagedKey in argocd-cm (docs/platform.md). Checks, in order:
--   being deleted, held by deletion protection     -> Degraded (someone must set
--                                                     spec.deletionProtection: false)
--   being deleted                                  -> Progressing (e.g. a credential still in use)
--   Synced=False, terminal reason                  -> Degraded (no retry can fix it)
--   Synced=False, Planned (reconcile: plan, --dry-run)-> Suspended (nothing is sent to Aura)
--   Ready=True                                     -> Healthy
--   Ready=False, CredentialsInvalid                -> Degraded (a credential Aura refused)
--   otherwise                                      -> Progressing, with the message
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

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  if synced ~= nil and synced.reason == "DeletionProtected" then
    hs.status = "Degraded"
    hs.message = "DeletionProtected: " .. message(synced, "set spec.deletionProtection to false")
    return hs
  end
  hs.status = "Progressing"
  hs.message = message(ready, "being deleted")
  return hs
end
if synced ~= nil and synced.status == "False" and TERMINAL[synced.reason] then
  hs.status = "Degraded"
  hs.message = synced.reason .. ": " .. message(synced, "see the object's events")
  return hs
end
if synced ~= nil and synced.status == "False" and synced.reason == "Planned" then
  hs.status = "Suspended"
  hs.message = "Planned: " .. message(synced, "plan mode: nothing is sent to Aura")
  return hs
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = message(ready, "Ready")
  return hs
end
if ready ~= nil and TERMINAL[ready.reason] then
  hs.status = "Degraded"
  hs.message = ready.reason .. ": " .. message(ready, "")
  return hs
end
hs.status = "Progressing"
hs.message = message(synced ~= nil and synced.status == "False" and synced or ready, "Waiting for the operator")
return hs
