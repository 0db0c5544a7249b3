package dev.aegis.admin;

import dev.aegis.control.ProxyControl;
import dev.aegis.control.ProxyStatus;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/** {@code POST /reload}, {@code POST /drain} and {@code POST /resume}. */
final class LifecycleHandler {

    private final ProxyControl control;
    private final Supplier<ProxyStatus> status;

    LifecycleHandler(ProxyControl control, Supplier<ProxyStatus> status) {
        this.control = control;
        this.status = status;
    }

    /**
     * 200 {@code {"status":"reloaded","generation":N}} (with {@code warnings} if the file has any),
     * or 400 {@code {"status":"rejected","error":...,"errors":[...]}} with nothing changed.
     */
    Reply reload(ApiRequest request) {
        ProxyControl.ReloadResult result = control.reload();
        Map<String, Object> body = new LinkedHashMap<>();
        if (result.ok()) {
            body.put("status", "reloaded");
            body.put("generation", result.generation());
            if (!result.warnings().isEmpty()) {
                body.put("warnings", result.warnings());
            }
            return Reply.ok(body);
        }
        List<String> errors = result.errors();
        body.put("status", "rejected");
        body.put("error", "configuration rejected (" + errors.size() + (errors.size() == 1 ? " error)" : " errors)")
                + ", still running generation " + result.generation());
        body.put("errors", errors);
        return new Reply(400, body);
    }

    /** {@code POST /drain[?service=NAME]}: every service, or the one named. */
    Reply drain(ApiRequest request) {
        return setDraining(request, true);
    }

    Reply resume(ApiRequest request) {
        return setDraining(request, false);
    }

    private Reply setDraining(ApiRequest request, boolean draining) {
        Optional<ProxyStatus.ServiceStatus> one = ServiceChoice.pickOptional(status.get(), request.query("service"));
        String name = one.map(ProxyStatus.ServiceStatus::name).orElse(null);
        if (!control.setDraining(name, draining)) {
            throw new ApiException(404, "no service \"" + name + "\"");
        }
        ProxyStatus now = status.get();
        boolean state = name == null ? now.draining()
                : now.service(name).map(ProxyStatus.ServiceStatus::draining).orElse(draining);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", state ? "draining" : "accepting");
        body.put("draining", state);
        if (name != null) {
            body.put("service", name);
        }
        return Reply.ok(body);
    }
}
