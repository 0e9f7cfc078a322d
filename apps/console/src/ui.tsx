import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';

/** What a load gave: the data, or the error, and a way to load again. */
export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  reload: () => void;
}

/** Loads once (and again when `keys` change or `reload` is called); polls every `everyMs` if given. */
export function useLoad<T>(
  load: () => Promise<T>,
  keys: readonly unknown[],
  everyMs?: number,
): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const [round, setRound] = useState(0);
  const latest = useRef(load);
  latest.current = load;
  useEffect(() => {
    let live = true;
    setLoading(true);
    latest
      .current()
      .then((value) => {
        if (!live) return;
        setData(value);
        setError(undefined);
      })
      .catch((caught: unknown) => live && setError(caught))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [...keys, round]);
  useEffect(() => {
    if (everyMs === undefined) return undefined;
    const timer = setInterval(() => setRound((value) => value + 1), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  const reload = useCallback(() => setRound((value) => value + 1), []);
  return { data, error, loading, reload };
}

/** A page: its heading (focused on arrival, so screen readers announce it) and its content. */
export function Page(props: { title: string; intro?: string; children: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [props.title]);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1} ref={heading}>
        {props.title}
      </h1>
      {props.intro === undefined ? null : <p class="intro">{props.intro}</p>}
      {props.children}
    </section>
  );
}

/** An error, said plainly with its code; announced to screen readers. */
export function ErrorNote(props: { error: unknown }) {
  if (props.error === undefined || props.error === null) return null;
  const error = props.error;
  const text =
    error instanceof ApiError
      ? `${error.message} (${error.code})`
      : error instanceof Error
        ? error.message
        : JSON.stringify(error);
  return (
    <div class="error" role="alert">
      <strong>Could not do that:</strong> {text}
      {error instanceof ApiError && error.issues.length > 0 ? (
        <ul>
          {error.issues.map((issue) => (
            <li key={issue.path}>
              {issue.path}: {issue.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** A short confirmation, announced politely. */
export function Notice(props: { text: string | undefined }) {
  return (
    <p class="notice" role="status" aria-live="polite">
      {props.text ?? ''}
    </p>
  );
}

export function Loading(props: { what: string }) {
  return <p aria-busy="true">Loading {props.what}…</p>;
}

/** A timestamp as the reader's local time, with the exact instant in a title. */
export function Time(props: { at: string | null | undefined }) {
  if (props.at === null || props.at === undefined) return <span>—</span>;
  const date = new Date(props.at);
  return (
    <time dateTime={props.at} title={props.at}>
      {date.toLocaleString()}
    </time>
  );
}

/** JSON shown as it is, readable. */
export function Json(props: { value: unknown; label: string }) {
  return (
    <pre class="json" aria-label={props.label} tabIndex={0}>
      {JSON.stringify(props.value, null, 2)}
    </pre>
  );
}

/** Runs an action from a button: busy while it runs, its error shown, its success announced. */
export function useAction(): {
  busy: boolean;
  error: unknown;
  notice: string | undefined;
  run: (work: () => Promise<string | undefined>) => Promise<void>;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const run = async (work: () => Promise<string | undefined>) => {
    setBusy(true);
    setError(undefined);
    setNotice(undefined);
    try {
      setNotice(await work());
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, notice, run };
}
