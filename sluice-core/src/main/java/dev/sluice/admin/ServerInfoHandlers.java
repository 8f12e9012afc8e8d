package dev.sluice.admin;

import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.sluice.stats.ServerState;
import io.envoyproxy.envoy.admin.v3.Memory;
import io.envoyproxy.envoy.admin.v3.ServerInfo;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryUsage;

/**
 * {@code /ready}, {@code /server_info}, {@code /memory}, {@code /hot_restart_version} and the
 * health-check switches {@code /healthcheck/fail} and {@code /healthcheck/ok}.
 */
public final class ServerInfoHandlers {
  private final ServerInfoSource source;
  private final HealthCheckFlag health;

  public ServerInfoHandlers(ServerInfoSource source, HealthCheckFlag health) {
    this.source = source;
    this.health = health;
  }

  public void register(AdminServer admin) {
    admin.register("/ready", "print server state, return 200 if LIVE, otherwise return 503",
        false, AdminHandler.sync(r -> ready()));
    admin.register("/server_info", "print server version/status information", false,
        AdminHandler.sync(r -> serverInfo()));
    admin.register("/memory", "print current allocation/heap usage", false,
        AdminHandler.sync(r -> memory()));
    admin.register("/hot_restart_version", "print the hot restart compatibility version", false,
        AdminHandler.sync(r -> AdminResponse.ok(source.hotRestartVersion())));
    AdminHandler fail = AdminHandler.sync(r -> {
      health.fail();
      return AdminResponse.ok("OK\n");
    });
    AdminHandler ok = AdminHandler.sync(r -> {
      health.ok();
      return AdminResponse.ok("OK\n");
    });
    admin.register("/healthcheck/fail", "cause the server to fail health checks", true, fail);
    admin.register("/healthcheck/ok", "cause the server to pass health checks", true, ok);
    // The names our issue tracker and some tooling use; same handlers as Envoy's paths above.
    admin.register("/healthz/fail", "alias of /healthcheck/fail", true, fail);
    admin.register("/healthz/ok", "alias of /healthcheck/ok", true, ok);
  }

  /** The state admin reports: DRAINING while the health check is failed, else the init state. */
  public ServerState state() {
    return ServerState.of(source.initState(), health.failed());
  }

  AdminResponse ready() {
    ServerState state = state();
    return AdminResponse.text(state == ServerState.LIVE ? 200 : 503, state.name() + "\n");
  }

  AdminResponse serverInfo() {
    long now = source.now().getEpochSecond();
    ServerInfo info = ServerInfo.newBuilder()
        .setVersion(source.version())
        .setState(ServerInfo.State.valueOf(state().name()))
        .setHotRestartVersion(source.hotRestartVersion())
        .setUptimeCurrentEpoch(seconds(now - source.startTimeCurrentEpoch().getEpochSecond()))
        .setUptimeAllEpochs(seconds(now - source.startTimeFirstEpoch().getEpochSecond()))
        .setCommandLineOptions(source.commandLineOptions())
        .setNode(source.node())
        .build();
    return json(info);
  }

  /**
   * Envoy reports tcmalloc's numbers; the JVM's nearest equivalents are used: allocated = heap and
   * non-heap in use, heap_size = heap committed, pageheap_free = committed but unused heap,
   * pageheap_unmapped = heap the JVM may still reserve, total_physical_bytes = all committed.
   */
  AdminResponse memory() {
    MemoryMXBean bean = ManagementFactory.getMemoryMXBean();
    MemoryUsage heap = bean.getHeapMemoryUsage();
    MemoryUsage nonHeap = bean.getNonHeapMemoryUsage();
    long unmapped = heap.getMax() > 0 ? Math.max(0, heap.getMax() - heap.getCommitted()) : 0;
    Memory memory = Memory.newBuilder()
        .setAllocated(heap.getUsed() + nonHeap.getUsed())
        .setHeapSize(heap.getCommitted())
        .setPageheapUnmapped(unmapped)
        .setPageheapFree(heap.getCommitted() - heap.getUsed())
        .setTotalThreadCache(0)
        .setTotalPhysicalBytes(heap.getCommitted() + nonHeap.getCommitted())
        .build();
    return json(memory);
  }

  private static AdminResponse json(com.google.protobuf.Message message) {
    try {
      return AdminResponse.json(
          AdminJson.print(message, JsonFormat.TypeRegistry.getEmptyTypeRegistry(), true));
    } catch (InvalidProtocolBufferException e) {
      return AdminResponse.text(500, "error: " + e.getMessage() + "\n");
    }
  }

  private static Duration seconds(long s) {
    return Duration.newBuilder().setSeconds(Math.max(0, s)).build();
  }
}
