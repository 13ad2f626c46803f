# Competing-risks references: cmprsk::cuminc (with Gray's test and timepoints), cmprsk::crr,
# survival::finegray + weighted coxph, and survfit's multi-state Aalen-Johansen estimate.

CUMINC_NOTE <- paste(
  "cmprsk::cuminc step functions exactly as returned (times duplicated at jumps, starting at 0);",
  "var is cmprsk's (Aalen-type) variance of the CIF estimate. Gray's test: one row per cause",
  "(k-sample test of the subdistribution). timepoints(): est/var at fixed times, rows 'group cause'."
)

cuminc_curves <- function(ci) {
  curves <- ci[names(ci) != "Tests"]
  lapply(names(curves), function(nm) {
    parts <- strsplit(nm, " ", fixed = TRUE)[[1]]
    cv <- curves[[nm]]
    list(name = nm, group = parts[1], cause = parts[2], time = vec(cv$time),
         est = vec(cv$est), var = vec(cv$var))
  })
}

grays_test <- function(ci) {
  tt <- ci$Tests
  if (is.null(tt)) return(NULL)
  list(cause = rownames(tt), stat = vec(tt[, "stat"]), p = vec(tt[, "pv"]), df = vec(tt[, "df"]))
}

cuminc_analysis <- function(id, call, env, times, description = NULL, cause_codes = NULL) {
  ci <- run(call, env)
  tp <- timepoints(ci, times)
  list(
    id = id, type = "cuminc", description = description, call = call,
    cause_codes = cause_codes, note = CUMINC_NOTE, curves = cuminc_curves(ci),
    grays_test = grays_test(ci),
    at_times = list(times = vec(times), est = mat(tp$est), var = mat(tp$var))
  )
}

crr_summary <- function(fit) {
  se <- sqrt(diag(fit$var))
  z <- fit$coef / se
  ci <- summary(fit)$conf.int
  list(
    terms = names(fit$coef), coef = vec(fit$coef), exp_coef = vec(exp(fit$coef)),
    se_coef = vec(se), z = vec(z), p = vec(2 * pnorm(-abs(z))),
    conf_int_exp = list(level = 0.95, lower = vec(ci[, "2.5%"]), upper = vec(ci[, "97.5%"])),
    var = mat(unname(fit$var)), loglik = fit$loglik, loglik_null = fit$loglik.null,
    lr_stat = 2 * (fit$loglik - fit$loglik.null), converged = fit$converged,
    n = fit$n, n_missing = fit$n.missing
  )
}

crr_analysis <- function(id, call, env, failcode, description = NULL) {
  fit <- run(call, env)
  c(list(id = id, type = "crr", description = description, call = call, failcode = failcode),
    crr_summary(fit),
    list(note = "Fine-Gray subdistribution hazard model; var is cmprsk's sandwich variance; loglik is the pseudo log-likelihood"))
}

finegray_analysis <- function(id, fg_call, env, covariates) {
  fg <- run(fg_call, env)
  cox_call <- sprintf("coxph(Surv(fgstart, fgstop, fgstatus) ~ %s, weights = fgwt, data = .fgdata)",
                      paste(covariates, collapse = " + "))
  fit <- run(cox_call, list2env(list(.fgdata = fg), parent = env))
  cf <- summary(fit)$coefficients
  list(
    id = id, type = "finegray_coxph", description = NULL, call_finegray = fg_call,
    call_coxph = cox_call, ties = fit$method, n_rows_expanded = nrow(fg), n = fit$n,
    nevent = fit$nevent, terms = names(coef(fit)), coef = vec(cf[, "coef"]),
    exp_coef = vec(cf[, "exp(coef)"]), se_coef = vec(cf[, "se(coef)"]),
    robust_se = vec(cf[, "robust se"]), z = vec(cf[, "z"]), p = vec(cf[, "Pr(>|z|)"]),
    loglik = list(null = fit$loglik[1], final = fit$loglik[2]),
    note = "survival::finegray expansion + weighted coxph: the Fine-Gray model as a cross-check of cmprsk::crr (coef agree closely but not exactly: different tie/censoring-weight handling)"
  )
}

aalen_johansen_analysis <- function(id, call, env) {
  fit <- run(call, env)
  rows <- curve_rows(fit)
  curves <- lapply(seq_along(rows), function(i) {
    r <- rows[[i]]
    list(stratum = names(rows)[i], time = vec(fit$time[r]),
         n.risk = mat(unname(fit$n.risk[r, , drop = FALSE])),
         n.event = mat(unname(fit$n.event[r, , drop = FALSE])),
         pstate = mat(unname(fit$pstate[r, , drop = FALSE])),
         std.err = mat(unname(fit$std.err[r, , drop = FALSE])))
  })
  list(
    id = id, type = "aalen_johansen", description = NULL, call = call, states = fit$states,
    note = "survfit multi-state (Aalen-Johansen) estimate; pstate columns = states ((s0) = event-free). pstate for a cause equals cuminc est; std.err is survfit's infinitesimal-jackknife SE (differs from cuminc var).",
    curves = curves
  )
}
