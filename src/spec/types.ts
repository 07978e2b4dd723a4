/**
 * The JobSpec after validation and normalization (contract section 2).
 * Defaults fill only fields that were missing: an explicit 0 stays 0.
 * Durations stay as the Go duration strings the user wrote (or the default),
 * so `validate --json` echoes them; use `parseDurationMs` to compute with them.
 */
export type JobType = 'pipeline' | 'query' | 'update' | 'config';
export type Strategy = 'immediate' | 'rolling' | 'canary';

export interface HealthCheck {
  /** Go duration, > 0. */
  deadline: string;
  /** Go duration, >= 0, < deadline. Default "30s". */
  min_healthy_time: string;
  /** 0..1, default 0.10. */
  max_error_rate: number;
}

export interface DeploymentPolicy {
  strategy: Strategy;
  /** Window size; 0 = no bound. Default 1. */
  max_parallel: number;
  canary_count: number;
  canary_percent: number;
  auto_promote: boolean;
  no_auto_rollback: boolean;
  max_failed_nodes: number;
  max_failed_nodes_percent: number;
  /** Present for rolling and canary (required there); kept if given for immediate, where it is ignored. */
  health_check?: HealthCheck;
}

export interface Selector {
  match_labels: Record<string, string>;
  match_expressions: string[];
  match_ids: string[];
}

export interface Timeouts {
  /** Seconds, 0 = none. */
  execution_timeout: number;
  queue_timeout: number;
  total_timeout: number;
}

export interface JobSpec {
  name: string;
  namespace: string;
  type: JobType;
  description?: string;
  priority: number;
  labels: Record<string, string>;
  meta: Record<string, string>;
  /** Opaque payload for the executor; never interpreted. */
  config?: unknown;
  selector: Selector;
  deployment: DeploymentPolicy;
  timeouts: Timeouts;
}

/** One validation finding: the dotted path of the field and what was expected and found. */
export interface Problem {
  path: string;
  message: string;
}

export type ValidationResult =
  | { valid: true; spec: JobSpec; warnings: Problem[] }
  | { valid: false; errors: Problem[]; warnings: Problem[] };
