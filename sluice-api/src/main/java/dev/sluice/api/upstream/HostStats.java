package dev.sluice.api.upstream;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Envoy's per-host stats as printed by {@code /clusters}: cx_total, cx_active, cx_connect_fail,
 * rq_total, rq_active, rq_success, rq_error, rq_timeout. Not exported to /stats (as in Envoy).
 * {@link #rqActive} is also what LEAST_REQUEST compares.
 */
public final class HostStats {
  public final LongAdder cxTotal = new LongAdder();
  public final AtomicLong cxActive = new AtomicLong();
  public final LongAdder cxConnectFail = new LongAdder();
  public final LongAdder rqTotal = new LongAdder();
  public final AtomicLong rqActive = new AtomicLong();
  public final LongAdder rqSuccess = new LongAdder();
  public final LongAdder rqError = new LongAdder();
  public final LongAdder rqTimeout = new LongAdder();
}
