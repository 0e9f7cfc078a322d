/**
 * The policies every tenant starts with, evaluated together with the tenant's own. Reads are
 * allowed; anything that changes something waits for a person until an admin writes a permit
 * without `@approval` for it; a forbid stops a runaway agent and no tenant permit can lift it.
 * Ids starting with `default-` are reserved for this set (see policy-text.ts).
 */
export const DEFAULT_POLICIES = `@id("default-allow-reads")
@reason("Reading changes nothing, so reads are allowed.")
permit (principal, action in HeroAgent::Action::"read", resource);

@id("default-approve-writes")
@reason("Changes need a person's approval until an admin allows them without it.")
@approval("required")
permit (principal, action in HeroAgent::Action::"reversible", resource);

@id("default-approve-irreversible")
@reason("This cannot be undone, so a person must approve it.")
@approval("required")
permit (principal, action in HeroAgent::Action::"irreversible", resource);

@id("default-runaway-guard")
@reason("More than 1000 actions in a day: the agent looks out of control, so it is stopped.")
forbid (principal, action, resource)
when { context.actionsLastDay >= 1000 };
`;
