package dev.sluice.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import dev.sluice.api.config.ConfigException;
import dev.sluice.config.ConfigText;
import dev.sluice.config.ProtoJson;
import dev.sluice.config.ProtoTypes;
import dev.sluice.stats.StatsStore;
import io.envoyproxy.envoy.admin.v3.ConfigDump;
import io.envoyproxy.envoy.admin.v3.ListenersConfigDump;
import io.envoyproxy.envoy.admin.v3.SecretsConfigDump;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateExpiredException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Istio's real secrets (SDS dump) and sidecar DownstreamTlsContexts (LDS dump) build contexts. */
class IstioTlsConfigTest {
  private static final Path DUMPS = Path.of("/work/shared/istio/config-dumps");
  private final StatsStore stats = new StatsStore();

  private static ConfigDump parse(String file) throws Exception {
    ConfigDump.Builder b = ConfigDump.newBuilder();
    ProtoTypes.get().parser(true).merge(Files.readString(DUMPS.resolve(file)), b);
    return b.build();
  }

  /** The LDS dump carries Istio-only Any types (stats.PluginConfig...): ProtoJson keeps them opaque. */
  private static ConfigDump parseWithIstioTypes(String file) throws Exception {
    return new ProtoJson(ProtoTypes.get(), false).parse(ConfigText.read(Files.readString(DUMPS.resolve(file)), false), ConfigDump.getDefaultInstance());
  }

  private static List<Secret> istioSecrets() throws Exception {
    SecretsConfigDump dump = parse("sds-secrets-dump_istioctl-secret-config_dump.json").getConfigs(0).unpack(SecretsConfigDump.class);
    List<Secret> out = new ArrayList<>();
    for (SecretsConfigDump.DynamicSecret s : dump.getDynamicActiveSecretsList()) {
      out.add(s.getSecret().unpack(Secret.class));
    }
    return out;
  }

  private static List<DownstreamTlsContext> sidecarTlsContexts() throws Exception {
    ListenersConfigDump dump = parseWithIstioTypes("sidecar-lds-2023-06_istioctl-authz-configdump.json").getConfigs(0).unpack(ListenersConfigDump.class);
    List<DownstreamTlsContext> out = new ArrayList<>();
    for (ListenersConfigDump.DynamicListener dl : dump.getDynamicListenersList()) {
      Listener l = dl.getActiveState().getListener().unpack(Listener.class);
      for (FilterChain fc : l.getFilterChainsList()) {
        Any typed = fc.getTransportSocket().getTypedConfig();
        if (typed.is(DownstreamTlsContext.class)) {
          out.add(typed.unpack(DownstreamTlsContext.class));
        }
      }
    }
    return out;
  }

  @Test
  void secretsDumpParsesButItsRedactedKeyIsRejected() throws Exception {
    List<Secret> secrets = istioSecrets();
    assertThat(secrets).extracting(Secret::getName).containsExactly("default", "ROOTCA");
    Secret workload = secrets.get(0);
    List<X509Certificate> chain = Pem.certificates(workload.getTlsCertificate().getCertificateChain().getInlineBytes().toByteArray(), "default");
    assertThat(chain).hasSize(2);
    assertThat(chain.get(0).getSubjectAlternativeNames()).anySatisfy(san -> assertThat((String) san.get(1)).startsWith("spiffe://cluster.local/"));
    // The workload certificate lived one day in 2023: expired, and still loadable as Envoy loads it.
    assertThatThrownBy(() -> chain.get(0).checkValidity()).isInstanceOf(CertificateExpiredException.class);
    TlsSecrets.validate(secrets.get(1), "ROOTCA");
    // istioctl redacts private keys ("[redacted]"): a static secret with it is a config error.
    assertThatThrownBy(() -> new StaticSecretProvider(secrets))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("static_resources.secrets[0].tls_certificate.private_key");
  }

  @Test
  void sidecarInboundContextsBuildWithRootCaAndAnExpiredWorkloadCertificate() throws Exception {
    List<DownstreamTlsContext> contexts = sidecarTlsContexts();
    assertThat(contexts).isNotEmpty();
    Secret rootCa = istioSecrets().get(1);
    TestPki pki = TestPki.get();
    // The dump's own key is redacted: an expired certificate of ours stands in for "default".
    StaticSecretProvider secrets = new StaticSecretProvider(List.of(
        TlsConfigs.certificateSecret("default", pki.expiredCert, pki.expiredKey), rootCa));
    for (int i = 0; i < contexts.size(); i++) {
      DownstreamTlsContext tls = contexts.get(i);
      assertThat(tls.getRequireClientCertificate().getValue()).isTrue();
      assertThat(tls.getCommonTlsContext().getCombinedValidationContext().getValidationContextSdsSecretConfig().getName()).isEqualTo("ROOTCA");
      DownstreamTlsSocket socket = DownstreamTlsSocket.compile(tls, secrets, TlsStats.downstream(stats.scope("listener.0.0.0.0_15006.")), "filter_chains[" + i + "]");
      assertThat(socket.ready()).as("context %d", i).isTrue();
    }
    // Without the workload secret the same context compiles but stays unusable (warming).
    DownstreamTlsSocket waiting = DownstreamTlsSocket.compile(contexts.get(0), new StaticSecretProvider(List.of(rootCa)),
        TlsStats.downstream(stats.scope("listener.0.0.0.0_15006.")), "filter_chains[0]");
    assertThat(waiting.ready()).isFalse();
  }
}
