import { auditQueryStatement, taskHistoryStatement } from '@app/audit';

describe('auditQueryStatement', () => {
  it('binds every value, fetches limit + 1, and AND-s the filters', () => {
    const { sql, params, limit } = auditQueryStatement({
      jobId: "job'; DROP TABLE audit_events; --",
      type: 'task.failed',
      after: '42',
      limit: 10,
    });
    expect(limit).toBe(10);
    expect(sql).toBe(
      'SELECT seq, event_id, "time", "type", job_id, task_id, worker_id, attempt, actor, fencing_token, detail' +
        ' FROM audit_events WHERE job_id = $1 AND "type" = $2 AND seq > $3::bigint ORDER BY seq LIMIT $4',
    );
    expect(params).toEqual(["job'; DROP TABLE audit_events; --", 'task.failed', '42', 11]);
  });

  it('reads a time window alone from the (time, seq) index first, fenced from the ORDER BY', () => {
    const { sql, params } = auditQueryStatement({ since: 0, until: 1_000, limit: 5 });
    expect(sql).toContain(
      'WHERE seq IN (SELECT seq FROM (SELECT seq FROM audit_events WHERE "time" >= $1::timestamptz AND "time" < $2::timestamptz OFFSET 0) AS w ORDER BY seq LIMIT $3) ORDER BY seq',
    );
    expect(params).toEqual(['1970-01-01T00:00:00.000Z', '1970-01-01T00:00:01.000Z', 6]);
    // With an id or type filter, that filter's index leads.
    expect(auditQueryStatement({ since: 0, taskId: 't', limit: 5 }).sql).not.toContain('OFFSET 0');
  });

  it('names the bad parameter', () => {
    expect(() => auditQueryStatement({ limit: 0 })).toThrow(/^limit: /);
    expect(() => auditQueryStatement({ until: Number.NaN, limit: 1 })).toThrow(/^until: /);
    expect(() => auditQueryStatement({ after: '1e3', limit: 1 })).toThrow(/^after: /);
  });
});

describe('taskHistoryStatement', () => {
  it('pages by task id after the cursor', () => {
    const { sql, params } = taskHistoryStatement({ state: 'failed', after: 't-9', limit: 50 });
    expect(sql).toMatch(/WHERE state = \$1 AND task_id > \$2 ORDER BY task_id LIMIT \$3$/);
    expect(params).toEqual(['failed', 't-9', 51]);
  });
});
