import type { ComponentType } from 'react';
import type { Role } from '../../../api-types.js';
import { ApprovalsPage } from './approvals.js';
import { EvalReportPage, EvalsPage } from './evals.js';
import { KillSwitchesPage } from './killswitches.js';
import { ManifestDiffPage, ManifestPage, PacksPage } from './packs.js';
import { RecordPage } from './record.js';
import { ReleasesPage } from './releases.js';
import { TrailPage } from './trail.js';

/** What a page gets: the path parameters of its pattern and the query string. */
export interface PageProps {
  params: Record<string, string>;
  search: string;
}

export interface PageEntry {
  /** Path pattern: segments, `:name` for a parameter (router.tsx `match`). */
  path: string;
  /** Shown in the navigation when `nav` is set, and as the document title. */
  title: string;
  roles: readonly Role[];
  /** In the navigation bar (list pages); detail pages are reached by links. */
  nav: boolean;
  component: ComponentType<PageProps>;
}

/**
 * The console's pages, one file each in this folder. A role's first page (after sign-in) is the
 * first entry here it may open. Add a page: write pages/<name>.tsx, add its entry, and its API
 * module under console/routes/ (console/README.md).
 */
export const PAGES: PageEntry[] = [
  { path: '/trail', title: 'Trail', roles: ['auditor'], nav: true, component: TrailPage },
  { path: '/trail/records/:id', title: 'Trail record', roles: ['auditor'], nav: false, component: RecordPage },
  { path: '/approvals', title: 'Approvals', roles: ['approver', 'auditor'], nav: true, component: ApprovalsPage },
  { path: '/approvals/:id', title: 'Approval request', roles: ['approver', 'auditor'], nav: false, component: ApprovalsPage },
  { path: '/killswitches', title: 'Kill switches', roles: ['security', 'approver', 'auditor'], nav: true, component: KillSwitchesPage },
  { path: '/releases', title: 'Releases', roles: ['security', 'ml', 'auditor'], nav: true, component: ReleasesPage },
  { path: '/evals', title: 'Evals', roles: ['ml', 'security', 'auditor'], nav: true, component: EvalsPage },
  { path: '/evals/reports/:id', title: 'Eval report', roles: ['ml', 'security', 'auditor'], nav: false, component: EvalReportPage },
  { path: '/packs', title: 'Packs', roles: ['security', 'ml', 'auditor'], nav: true, component: PacksPage },
  { path: '/packs/manifests/:digest', title: 'Manifest', roles: ['security', 'ml', 'auditor'], nav: false, component: ManifestPage },
  { path: '/packs/diff', title: 'Manifest diff', roles: ['security', 'ml', 'auditor'], nav: false, component: ManifestDiffPage },
];
