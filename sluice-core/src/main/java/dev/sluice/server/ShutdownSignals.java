package dev.sluice.server;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM and SIGINT start the server's orderly shutdown (drain, then exit 0), as Envoy's signal
 * handlers do. {@code sun.misc.Signal} (module jdk.unsupported) replaces the JVM's default
 * handler, so the JVM does not exit before the drain; when the JVM refuses (signals reserved, e.g.
 * {@code -Xrs}), a shutdown hook starts the same shutdown and waits for it.
 */
final class ShutdownSignals {
  private static final Logger log = Logging.logger("main");

  private ShutdownSignals() {}

  /**
   * @param awaitExit blocks until the shutdown has finished (the shutdown hook waits for it)
   * @return puts back what was there before (the previous handlers, or removes the hook)
   */
  static Runnable install(Runnable shutdown, Runnable awaitExit) {
    List<Runnable> undo = new ArrayList<>();
    for (String name : new String[] {"TERM", "INT"}) {
      Signal signal = new Signal(name);
      try {
        SignalHandler previous = Signal.handle(signal, s -> {
          log.warn("caught SIG{}", name);
          shutdown.run();
        });
        undo.add(() -> Signal.handle(signal, previous));
      } catch (IllegalArgumentException | UnsupportedOperationException e) {
        log.info("SIG{} handler not installed ({}); using a shutdown hook", name, e.getMessage());
        Thread hook = new Thread(() -> {
          shutdown.run();
          awaitExit.run();
        }, "sluice-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        undo.add(() -> {
          try {
            Runtime.getRuntime().removeShutdownHook(hook);
          } catch (IllegalStateException shuttingDown) {
            // The JVM is exiting and runs the hook: nothing to undo.
          }
        });
        break;
      }
    }
    return () -> undo.forEach(Runnable::run);
  }
}
