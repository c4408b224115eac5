import { createSourceEventStream, execute, getOperationAST, print, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';

type PromiseOrValue<T> = T | Promise<T>;

/**
 * Set on a subscription field with `@Extensions({ sharedResults: true })`: its events may be one
 * object handed to many subscribers, and the result of an event depends only on the event, the
 * operation and its variables, not on who subscribed (access is checked when a subscription starts).
 */
export const SHARED_RESULTS = 'sharedResults';

/** printed once per parsed document: operations written alike share a key */
const documentKeys = new WeakMap<DocumentNode, string>();
/** results by event object, then by operation and variables; gone with the event */
const resultsByEvent = new WeakMap<object, Map<string, PromiseOrValue<ExecutionResult>>>();

/**
 * graphql-js `subscribe`, except that for a field marked `sharedResults` an event object that
 * reaches many subscribers of the same operation and variables is executed once for all of them:
 * with 50 clients watching the same tasks, one execution per progress batch instead of 50.
 */
export async function subscribeShared(args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
  const stream = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in stream)) return stream; // errors: the subscription did not start
  const run = (event: unknown) => execute({ ...args, rootValue: event });
  if (!sharesResults(args)) return mapEvents(stream, run);

  let key = documentKeys.get(args.document);
  if (key === undefined) documentKeys.set(args.document, (key = print(args.document)));
  key += `\n${args.operationName ?? ''}\n${JSON.stringify(args.variableValues ?? {})}`;
  const operationKey = key;
  return mapEvents(stream, (event) => {
    if (typeof event !== 'object' || event === null) return run(event);
    let results = resultsByEvent.get(event);
    if (!results) resultsByEvent.set(event, (results = new Map()));
    let result = results.get(operationKey);
    if (!result) {
      results.set(operationKey, (result = run(event)));
    }
    return result;
  });
}

function sharesResults(args: ExecutionArgs): boolean {
  const operation = getOperationAST(args.document, args.operationName);
  const selection = operation?.selectionSet.selections[0];
  if (!selection || selection.kind !== 'Field') return false;
  return args.schema.getSubscriptionType()?.getFields()[selection.name.value]?.extensions?.[SHARED_RESULTS] === true;
}

/** The events mapped to results; `return()` goes straight to the source, as in graphql-js, so that it ends even while waiting. */
function mapEvents(stream: AsyncIterable<unknown>, run: (event: unknown) => PromiseOrValue<ExecutionResult>): AsyncGenerator<ExecutionResult> {
  const source = stream[Symbol.asyncIterator]();
  const map = async (step: IteratorResult<unknown>): Promise<IteratorResult<ExecutionResult>> => (step.done ? { done: true, value: undefined } : { done: false, value: await run(step.value) });
  const mapped: AsyncGenerator<ExecutionResult> = {
    next: async () => map(await source.next()),
    return: async () => map(source.return ? await source.return() : { done: true, value: undefined }),
    throw: async (error) => {
      if (source.throw) return map(await source.throw(error));
      throw error;
    },
    [Symbol.asyncIterator]: () => mapped,
  };
  return mapped;
}
