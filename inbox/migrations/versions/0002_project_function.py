"""the projection as one function: a batch of lifecycle events is one statement

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 19:50:00

`inbox_project(org, events)` does what `inbox.service.project` did in ten round trips (pool
pre-ping, BEGIN, the org setting, five projection statements, the feed's bump, COMMIT): called
as one autocommit statement it is one transaction and one round trip. The rules it keeps:

* the org is set first (transaction-local), so row-level security confines every statement;
* an event is claimed once by (task, seq) in `projected_events`: a replay changes nothing;
* every column is a greatest, least or first-non-empty of what the events say, so a batch
  leaves the same rows as its events one at a time, in any order;
* rows are locked in one order (conversations by id, then their tasks, the feed's head last)
  so concurrent batches wait rather than deadlock; the head's bump numbers the entries with no
  gaps, in commit order.

The feed entries' JSON is the shape of `inbox.service.records` (tests compare the two).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Python's datetime.isoformat() of a UTC time, which the API's JSON uses for the same rows.
_ISO = """
CREATE OR REPLACE FUNCTION inbox_iso(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN to_char(t AT TIME ZONE 'UTC', 'US') = '000000' THEN ''
                ELSE to_char(t AT TIME ZONE 'UTC', '.US') END
        || '+00:00'
$$
"""

_CONVERSATION_JSON = """
CREATE OR REPLACE FUNCTION inbox_conversation_json(c conversations) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'conversation_id', c.conversation_id,
        'title', c.title,
        'read_status', c.read_status,
        'priority', CASE WHEN c.pending_checkpoints > 0 THEN 'attention' ELSE 'normal' END,
        'pending_checkpoints', c.pending_checkpoints,
        'last_preview', c.last_preview,
        'last_message_at', inbox_iso(c.last_message_at),
        'created_at', inbox_iso(c.created_at),
        'updated_at', inbox_iso(c.updated_at))
$$
"""

_MESSAGE_JSON = """
CREATE OR REPLACE FUNCTION inbox_message_json(m messages, checkpoint_status text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'message_id', m.message_id,
        'conversation_id', m.conversation_id,
        'task_id', m.task_id,
        'role', m.role,
        'agent_id', m.agent_id,
        'kind', m.kind,
        'body', m.body,
        'data', m.data,
        'checkpoint_id', m.checkpoint_id,
        'checkpoint_status', checkpoint_status,
        'created_at', inbox_iso(m.created_at))
$$
"""

# `events`: a JSON array, in (conversation, task, seq) order, one object per distinct event:
# n (its place, returned with its entry), task_id, seq, conversation_id, title, goal, status,
# occurred_at, order_key, event (the entry's "event" JSON), and when they apply `message`
# (message_id, agent_id, kind, body, preview, data, checkpoint_id) and `resolved`
# (checkpoint_id, status, auto). Returns the entries appended: [{n, seq, kind, data, at}].
_PROJECT = """
CREATE OR REPLACE FUNCTION inbox_project(p_org text, p_events jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    fresh jsonb;
    one jsonb;
    place bigint;
    statuses jsonb := '{}';
    resolutions jsonb := '{}';
    touched text[] := '{}';
    found_status text;
    found_message text;
    total int;
    new_head bigint;
    appended_at timestamptz;
    entries jsonb;
BEGIN
    PERFORM set_config('fluxos.org_id', p_org, true);

    -- Every conversation of the batch exists, and is locked, in the order of their ids.
    INSERT INTO conversations AS c
           (org_id, conversation_id, title, read_status, created_at, updated_at)
    SELECT p_org, e->>'conversation_id',
           coalesce((array_agg(e->>'title' ORDER BY (e->>'n')::int)
                     FILTER (WHERE e->>'title' <> ''))[1], ''),
           'unread', min((e->>'occurred_at')::timestamptz), max((e->>'occurred_at')::timestamptz)
      FROM jsonb_array_elements(p_events) AS e
     GROUP BY e->>'conversation_id'
     ORDER BY e->>'conversation_id'
    ON CONFLICT (org_id, conversation_id) DO UPDATE
       SET title = coalesce(nullif(c.title, ''), excluded.title),
           created_at = least(c.created_at, excluded.created_at),
           updated_at = greatest(c.updated_at, excluded.updated_at);

    -- The events not applied before (each is claimed once, for good).
    WITH claimed AS (
        INSERT INTO projected_events (org_id, task_id, seq)
        SELECT p_org, e->>'task_id', (e->>'seq')::int FROM jsonb_array_elements(p_events) AS e
        ON CONFLICT DO NOTHING
        RETURNING task_id, seq
    )
    SELECT jsonb_agg(e ORDER BY (e->>'n')::int) INTO fresh
      FROM jsonb_array_elements(p_events) AS e
      JOIN claimed ON claimed.task_id = e->>'task_id' AND claimed.seq = (e->>'seq')::int;
    IF fresh IS NULL THEN
        RETURN '[]'::jsonb;
    END IF;

    -- Only a later event moves a task's status: an older one arriving late changes nothing.
    INSERT INTO conversation_tasks AS t
           (org_id, task_id, conversation_id, goal, status, last_seq, updated_at)
    SELECT p_org, e->>'task_id', min(e->>'conversation_id'),
           coalesce((array_agg(e->>'goal' ORDER BY (e->>'seq')::int)
                     FILTER (WHERE e->>'goal' <> ''))[1], ''),
           (array_agg(e->>'status' ORDER BY (e->>'seq')::int DESC))[1],
           max((e->>'seq')::int), max((e->>'occurred_at')::timestamptz)
      FROM jsonb_array_elements(fresh) AS e
     GROUP BY e->>'task_id'
     ORDER BY e->>'task_id'
    ON CONFLICT (org_id, task_id) DO UPDATE
       SET status = CASE WHEN excluded.last_seq > t.last_seq THEN excluded.status
                         ELSE t.status END,
           last_seq = greatest(t.last_seq, excluded.last_seq),
           updated_at = greatest(t.updated_at, excluded.updated_at),
           goal = coalesce(nullif(t.goal, ''), excluded.goal);

    INSERT INTO messages (org_id, message_id, conversation_id, task_id, task_seq, role,
                          agent_id, kind, body, data, checkpoint_id, created_at)
    SELECT p_org, m->>'message_id', e->>'conversation_id', e->>'task_id', (e->>'seq')::int,
           'agent', m->>'agent_id', m->>'kind', m->>'body', m->'data', m->>'checkpoint_id',
           (e->>'occurred_at')::timestamptz
      FROM jsonb_array_elements(fresh) AS e, LATERAL (SELECT e->'message' AS m) AS x
     WHERE jsonb_typeof(m) = 'object';

    -- Checkpoints are rare, and each depends on the one before: one at a time, in order.
    FOR one, place IN SELECT e, (e->>'n')::bigint FROM jsonb_array_elements(fresh) AS e
                       WHERE e->'message'->>'checkpoint_id' IS NOT NULL
                          OR jsonb_typeof(e->'resolved') = 'object'
                       ORDER BY (e->>'n')::int
    LOOP
        IF one->'message'->>'checkpoint_id' IS NOT NULL THEN
            INSERT INTO checkpoints AS k
                   (org_id, checkpoint_id, task_id, conversation_id, status, requested)
            VALUES (p_org, one->'message'->>'checkpoint_id', one->>'task_id',
                    one->>'conversation_id', 'pending', 1)
            ON CONFLICT (org_id, checkpoint_id) DO UPDATE SET requested = 1
            RETURNING k.status INTO found_status;
            statuses := statuses || jsonb_build_object(place::text, found_status);
            touched := touched || (one->>'conversation_id');
        END IF;
        IF jsonb_typeof(one->'resolved') = 'object' THEN
            INSERT INTO checkpoints AS k
                   (org_id, checkpoint_id, task_id, conversation_id, status, requested)
            VALUES (p_org, one->'resolved'->>'checkpoint_id', one->>'task_id',
                    one->>'conversation_id', one->'resolved'->>'status', 0)
            ON CONFLICT (org_id, checkpoint_id) DO UPDATE SET status = excluded.status;
            SELECT message_id INTO found_message FROM messages
             WHERE org_id = p_org AND checkpoint_id = one->'resolved'->>'checkpoint_id';
            resolutions := resolutions || jsonb_build_object(place::text, jsonb_build_object(
                'checkpoint_id', one->'resolved'->>'checkpoint_id',
                'status', one->'resolved'->>'status',
                'auto', one->'resolved'->'auto',
                'message_id', found_message));
            touched := touched || (one->>'conversation_id');
        END IF;
    END LOOP;

    -- Each conversation's latest message (time, preview), whatever order they came in.
    UPDATE conversations AS c
       SET last_message_at = greatest(coalesce(c.last_message_at, l.at), l.at),
           last_preview = CASE WHEN c.last_message_key < l.order_key THEN l.preview
                               ELSE c.last_preview END,
           last_message_key = greatest(c.last_message_key, l.order_key),
           read_status = 'unread',
           updated_at = greatest(c.updated_at, l.at)
      FROM (SELECT DISTINCT ON (e->>'conversation_id')
                   e->>'conversation_id' AS conversation_id, e->>'order_key' AS order_key,
                   (e->>'occurred_at')::timestamptz AS at, e->'message'->>'preview' AS preview
              FROM jsonb_array_elements(fresh) AS e
             WHERE jsonb_typeof(e->'message') = 'object'
             ORDER BY e->>'conversation_id', e->>'order_key' COLLATE "C" DESC) AS l
     WHERE c.org_id = p_org AND c.conversation_id = l.conversation_id;

    -- Only checkpoint rows move the count, so other events need not recount it.
    IF cardinality(touched) > 0 THEN
        UPDATE conversations AS c
           SET pending_checkpoints = (
               SELECT count(*) FROM checkpoints AS k
                WHERE k.org_id = p_org AND k.conversation_id = c.conversation_id
                  AND k.status = 'pending' AND k.requested = 1)
         WHERE c.org_id = p_org AND c.conversation_id = ANY(touched);
    END IF;

    -- The feed's head last (its lock is held to the commit), then the numbered entries, each
    -- showing its conversation as the batch left it.
    total := jsonb_array_length(fresh);
    appended_at := clock_timestamp();  -- the entries' `at`: when they were appended
    INSERT INTO feed_heads AS h (org_id, head) VALUES (p_org, total)
    ON CONFLICT (org_id) DO UPDATE SET head = h.head + total
    RETURNING head INTO new_head;

    WITH built AS (
        SELECT w.ord, w.e,
               CASE WHEN jsonb_typeof(w.e->'message') = 'object' THEN 'message'
                    ELSE 'progress' END AS kind,
               jsonb_build_object('event', w.e->'event',
                                  'conversation', inbox_conversation_json(c))
               || CASE WHEN m.message_id IS NULL THEN '{}'::jsonb
                       ELSE jsonb_build_object('message', inbox_message_json(
                                m, statuses->>(w.e->>'n'))) END
               || CASE WHEN resolutions ? (w.e->>'n')
                       THEN jsonb_build_object('checkpoint', resolutions->(w.e->>'n'))
                       ELSE '{}'::jsonb END AS data
          FROM jsonb_array_elements(fresh) WITH ORDINALITY AS w(e, ord)
          JOIN conversations AS c
            ON c.org_id = p_org AND c.conversation_id = w.e->>'conversation_id'
          LEFT JOIN messages AS m
            ON m.org_id = p_org AND m.message_id = w.e->'message'->>'message_id'
    ), appended AS (
        INSERT INTO feed_entries (org_id, seq, kind, conversation_id, task_id, data,
                                  source_at, at)
        SELECT p_org, new_head - total + b.ord, b.kind, b.e->>'conversation_id',
               b.e->>'task_id', b.data, (b.e->>'occurred_at')::timestamptz, appended_at
          FROM built AS b
        RETURNING seq, kind, data
    )
    SELECT jsonb_agg(jsonb_build_object(
               'n', fresh->(a.seq - new_head + total - 1)::int->'n',
               'seq', a.seq, 'kind', a.kind, 'data', a.data, 'at', appended_at)
                     ORDER BY a.seq)
      INTO entries FROM appended AS a;
    RETURN entries;
END
$$
"""


def upgrade() -> None:
    for statement in (_ISO, _CONVERSATION_JSON, _MESSAGE_JSON, _PROJECT):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS inbox_project(text, jsonb)")
    op.execute("DROP FUNCTION IF EXISTS inbox_message_json(messages, text)")
    op.execute("DROP FUNCTION IF EXISTS inbox_conversation_json(conversations)")
    op.execute("DROP FUNCTION IF EXISTS inbox_iso(timestamptz)")
