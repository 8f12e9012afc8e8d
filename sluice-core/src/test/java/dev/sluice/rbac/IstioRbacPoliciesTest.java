package dev.sluice.rbac;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.sluice.config.ConfigText;
import dev.sluice.config.ProtoJson;
import dev.sluice.config.ProtoTypes;
import io.envoyproxy.envoy.admin.v3.ConfigDump;
import io.envoyproxy.envoy.admin.v3.ListenersConfigDump;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The RBAC filters istiod put on the sidecar's {@code virtualInbound} (the authz config dump in
 * {@code /work/shared/istio/config-dumps}) compile, and decide as Istio means them: the ALLOW policy
 * {@code ns[default]-policy[httpbin]-rule[0]} admits GET /info* and POST /data from the {@code sleep}
 * service account or any workload of namespace {@code test}, when the request carries a JWT issued by
 * accounts.google.com (Istio's {@code istio_authn} metadata); the ext-authz shadow policy is its DENY
 * mirror; the TCP chains' empty ALLOW rules refuse every connection.
 */
class IstioRbacPoliciesTest {
  private static final String POLICY = "ns[default]-policy[httpbin]-rule[0]";
  private static final String SLEEP = "spiffe://cluster.local/ns/default/sa/sleep";
  private static final Struct GOOGLE_JWT = Struct.newBuilder().putFields("request.auth.claims", Value.newBuilder()
      .setStructValue(Struct.newBuilder().putFields("iss", Value.newBuilder().setListValue(ListValue.newBuilder()
          .addValues(Value.newBuilder().setStringValue("https://accounts.google.com"))).build())).build()).build();

  private static final List<io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC> HTTP = new ArrayList<>();
  private static final List<io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC> TCP = new ArrayList<>();

  @BeforeAll
  static void load() throws Exception {
    ProtoJson json = new ProtoJson(ProtoTypes.get(), false);
    ConfigDump dump = json.parse(ConfigText.read(Files.readString(
        Path.of("/work/shared/istio/config-dumps/sidecar-lds-2023-06_istioctl-authz-configdump.json")), false), ConfigDump.getDefaultInstance());
    ListenersConfigDump listeners = dump.getConfigs(0).unpack(ListenersConfigDump.class);
    for (ListenersConfigDump.DynamicListener dl : listeners.getDynamicListenersList()) {
      Listener l = dl.getActiveState().getListener().unpack(Listener.class);
      if (!l.getName().equals("virtualInbound")) {
        continue;
      }
      for (FilterChain chain : l.getFilterChainsList()) {
        for (Filter f : chain.getFiltersList()) {
          Any tc = f.getTypedConfig();
          if (tc.is(io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.class)) {
            TCP.add(tc.unpack(io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.class));
          } else if (tc.is(HttpConnectionManager.class)) {
            for (HttpFilter hf : tc.unpack(HttpConnectionManager.class).getHttpFiltersList()) {
              if (hf.getTypedConfig().is(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.class)) {
                HTTP.add(hf.getTypedConfig().unpack(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.class));
              }
            }
          }
        }
      }
    }
  }

  private static RbacEngine allowPolicy() {
    var config = HTTP.stream().filter(r -> r.hasRules()).findFirst().orElseThrow();
    assertThat(config.getShadowRulesStatPrefix()).isEqualTo("istio_dry_run_allow_");
    return RbacEngine.compile(config.getRules(), "rules");
  }

  private static RbacEngine shadowDenyPolicy() {
    var config = HTTP.stream().filter(r -> r.hasShadowRules()).findFirst().orElseThrow();
    assertThat(config.hasRules()).isFalse();
    return RbacEngine.compile(config.getShadowRules(), "shadow_rules");
  }

  private static TestInput request(String method, String path) {
    return TestInput.of(new DefaultHttp2Headers().method(method).path(path).authority("httpbin:8000").scheme("http"));
  }

  @Test
  void everyRbacFilterOfTheDumpCompiles() {
    assertThat(HTTP).hasSize(8);
    assertThat(TCP).hasSize(3);
    for (var r : HTTP) {
      if (r.hasRules()) {
        RbacEngine.compile(r.getRules(), "rules");
      }
      if (r.hasShadowRules()) {
        RbacEngine.compile(r.getShadowRules(), "shadow_rules");
      }
    }
    for (var r : TCP) {
      assertThat(r.getStatPrefix()).isEqualTo("tcp.");
      RbacEngine.compile(r.getRules(), "rules");
    }
  }

  @Test
  void sleepWithAGoogleJwtMayGetInfo() {
    RbacEngine.Decision d = allowPolicy().evaluate(request("GET", "/info/version?verbose=1").withPeer(SLEEP).withMetadata("istio_authn", GOOGLE_JWT));
    assertThat(d).isEqualTo(new RbacEngine.Decision(true, POLICY));
  }

  @Test
  void aWorkloadOfNamespaceTestMayPostData() {
    assertThat(allowPolicy().evaluate(request("POST", "/data").withPeer("spiffe://cluster.local/ns/test/sa/client")
        .withMetadata("istio_authn", GOOGLE_JWT)).allowed()).isTrue();
  }

  @Test
  void withoutTheJwtOrFromElsewhereOrForOtherActionsItIsDenied() {
    RbacEngine allow = allowPolicy();
    assertThat(allow.evaluate(request("GET", "/info").withPeer(SLEEP))).isEqualTo(new RbacEngine.Decision(false, null));
    assertThat(allow.evaluate(request("GET", "/info").withPeer("spiffe://cluster.local/ns/prod/sa/sleep")
        .withMetadata("istio_authn", GOOGLE_JWT)).allowed()).isFalse();
    assertThat(allow.evaluate(request("GET", "/data").withPeer(SLEEP).withMetadata("istio_authn", GOOGLE_JWT)).allowed()).isFalse();
    assertThat(allow.evaluate(request("POST", "/data/x").withPeer(SLEEP).withMetadata("istio_authn", GOOGLE_JWT)).allowed()).isFalse();
    // Plain text: no peer principal at all.
    assertThat(allow.evaluate(request("GET", "/info").withMetadata("istio_authn", GOOGLE_JWT)).allowed()).isFalse();
    Struct otherIssuer = GOOGLE_JWT.toBuilder().putFields("request.auth.claims", Value.newBuilder().setStructValue(Struct.newBuilder()
        .putFields("iss", Value.newBuilder().setListValue(ListValue.newBuilder().addValues(Value.newBuilder().setStringValue("https://evil.example"))).build())).build()).build();
    assertThat(allow.evaluate(request("GET", "/info").withPeer(SLEEP).withMetadata("istio_authn", otherIssuer)).allowed()).isFalse();
  }

  @Test
  void theExtAuthzShadowPolicyDeniesWhatItMatches() {
    RbacEngine shadow = shadowDenyPolicy();
    assertThat(shadow.action()).isEqualTo(io.envoyproxy.envoy.config.rbac.v3.RBAC.Action.DENY);
    assertThat(shadow.evaluate(request("GET", "/info").withPeer(SLEEP).withMetadata("istio_authn", GOOGLE_JWT)))
        .isEqualTo(new RbacEngine.Decision(false, "istio-ext-authz-ns[default]-policy[ext-authz]-rule[0]"));
    assertThat(shadow.evaluate(request("GET", "/other").withPeer(SLEEP)).allowed()).isTrue();
  }

  @Test
  void theTcpChainsEmptyAllowRulesRefuseEveryConnection() {
    RbacEngine tcp = RbacEngine.compile(TCP.getFirst().getRules(), "rules");
    assertThat(tcp.evaluate(TestInput.of(null).withPeer(SLEEP)).allowed()).isFalse();
  }
}
