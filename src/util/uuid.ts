/** The form of Ferry's ids: checked before an id reaches SQL, so that a malformed one names nothing instead of failing the query. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
