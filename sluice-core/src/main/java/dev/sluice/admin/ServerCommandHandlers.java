package dev.sluice.admin;

/** {@code /quitquitquit} and {@code /drain_listeners}, delegated to the server. */
public final class ServerCommandHandlers {
  private final ServerLifecycle lifecycle;

  public ServerCommandHandlers(ServerLifecycle lifecycle) {
    this.lifecycle = lifecycle;
  }

  public void register(AdminServer admin) {
    admin.register("/quitquitquit", "exit the server", true, AdminHandler.sync(r -> {
      lifecycle.shutdown();
      return AdminResponse.ok("OK\n");
    }));
    admin.register("/drain_listeners", "drain listeners", true, this::drain);
  }

  private java.util.concurrent.CompletableFuture<AdminResponse> drain(AdminRequest request) {
    QueryParams q = request.query();
    boolean graceful = q.has("graceful");
    boolean skipExit = q.has("skip_exit");
    if (skipExit && !graceful) {
      return java.util.concurrent.CompletableFuture.completedFuture(
          AdminResponse.text(400, "error: skip_exit requires graceful\n"));
    }
    return lifecycle.drainListeners(q.has("inboundonly"), graceful, skipExit)
        .thenApply(v -> AdminResponse.ok("OK\n"));
  }
}
