/**
 * The deployment engine's contract between its constructs (lib/management/control-plane.ts) and
 * the deploy job (lambda/management/control-plane/deploy-job/): pure constants.
 */

/** The CDK bootstrap qualifier `cdk bootstrap` uses unless told otherwise. */
export const DEFAULT_BOOTSTRAP_QUALIFIER = 'hnb659fds';
/** A bootstrap qualifier as `cdk bootstrap --qualifier` accepts it (lowercase alphanumerics, at most 10). */
export const BOOTSTRAP_QUALIFIER_PATTERN = /^[a-z0-9]{1,10}$/;
/**
 * The CDK CLI the deploy job runs. aws-cdk-lib 2.276 writes cloud-assembly schema 55; the `aws-cdk`
 * package's `latest` tag (3.0.0) cannot read it, 2.1148.1 can (the same pin as package.json).
 */
export const DEPLOY_JOB_CDK_CLI_VERSION = '2.1148.1';
/**
 * Partition-key prefix of the items the deploy job may read: `ENV#<tenant>#<environment>` holds
 * an environment's config versions (and its deployment records); see config-store.ts.
 */
export const STORED_CONFIG_KEY_PREFIX = 'ENV#';
