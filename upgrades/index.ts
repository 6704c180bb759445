/**
 * Upgrade proposals: when a catalog gains a newer version of a template a stack uses, Berth proposes it as a
 * merge request on the environment repository. `berth serve` calls proposeUpgrades after each catalog change
 * and on its timer; `berth status` and `/api/stacks` show availableUpgrades.
 */
export { availableUpgrades, upgradeForStack, describeUpgrade, draftReason, type AvailableUpgrade, type AvailableOptions } from './available.ts';
export { proposeUpgrades, defaultRemote, type ProposeOptions, type ProposalResult, type ProposalAction } from './propose.ts';
export { findUpgrade, chooseVersion, type Upgrade } from './find.ts';
export { createForge, FORGES, type Forge, type MergeRequest } from './forge.ts';
export { BRANCH_PREFIX, upgradeBranch, type RemoteSpec } from './branch.ts';
export type { ForgeConfig, ForgeType } from './config.ts';
