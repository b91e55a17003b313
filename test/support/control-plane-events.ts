/**
 * The control plane's events as EventBridge really delivers them, on moto: a rule on the bus
 * sends every event of the control plane's source to a CloudWatch Logs group, which the tests read.
 */
import { CONTROL_PLANE_EVENT_SOURCE, Deployment } from '../../lib/contracts/control-plane';
import { MOTO_REGION, motoJson } from './moto';

export interface DeliveredEvent {
  readonly type: string;
  readonly detail: Deployment & { previousStatus?: string };
}

export interface BusRecorder {
  /** Every event delivered so far, oldest first. */
  all(): Promise<DeliveredEvent[]>;
  /** The events of one deployment. */
  of(deploymentId: string): Promise<DeliveredEvent[]>;
}

/** Creates the log group, the rule and its target on `eventBusName`; returns the reader. */
export async function recordBusEvents(endpoint: string, eventBusName: string, logGroupName: string): Promise<BusRecorder> {
  await motoJson(endpoint, 'logs', 'Logs_20140328.CreateLogGroup', { logGroupName });
  await motoJson(endpoint, 'events', 'AWSEvents.PutRule', { Name: 'all', EventBusName: eventBusName, EventPattern: JSON.stringify({ source: [CONTROL_PLANE_EVENT_SOURCE] }) });
  await motoJson(endpoint, 'events', 'AWSEvents.PutTargets', { Rule: 'all', EventBusName: eventBusName, Targets: [{ Id: 'log', Arn: `arn:aws:logs:${MOTO_REGION}:123456789012:log-group:${logGroupName}` }] });
  const all = async (): Promise<DeliveredEvent[]> => {
    const out = (await motoJson(endpoint, 'logs', 'Logs_20140328.FilterLogEvents', { logGroupName })) as { events?: { message: string }[] };
    return (out.events ?? []).map((e) => JSON.parse(e.message) as { 'detail-type': string; detail: DeliveredEvent['detail'] }).map((e) => ({ type: e['detail-type'], detail: e.detail }));
  };
  return { all, of: async (deploymentId) => (await all()).filter((e) => e.detail.deploymentId === deploymentId) };
}
