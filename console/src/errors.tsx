import Alert from '@cloudscape-design/components/alert';
import Box from '@cloudscape-design/components/box';
import { ApiError } from './api';

/** An error as the API gave it: status, code, message and the offending field. Never a stack trace. */
export interface ShownError {
  readonly status?: number;
  readonly code: string;
  readonly message: string;
  readonly field?: string;
}

export function toShownError(e: unknown): ShownError {
  if (e instanceof ApiError) return { status: e.status, code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) };
  // SDK errors (Cognito) carry a name and a message meant for people; nothing else is shown.
  const err = e as { name?: string; message?: string } | undefined;
  return { code: err?.name && err.name !== 'Error' ? err.name : 'Error', message: err?.message ? err.message.split('\n')[0] : 'the request failed; try again' };
}

export function ErrorAlert({ error, onDismiss }: { error: ShownError; onDismiss?: () => void }) {
  return (
    <Alert type="error" header={`${error.status ? `${error.status} ` : ''}${error.code}`} dismissible={!!onDismiss} {...(onDismiss ? { onDismiss } : {})}>
      <span data-testid="error-message">{error.message}</span>
      {error.field && (
        <Box variant="p" padding={{ top: 'xxs' }}>
          Field: <Box variant="code" display="inline">{error.field}</Box>
        </Box>
      )}
    </Alert>
  );
}
