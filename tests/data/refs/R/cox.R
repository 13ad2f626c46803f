# Cox model references: coxph fits (coef, variances, tests, concordance, cox.zph, residuals,
# baseline hazard) and survfit.coxph predictions for new data.

COX_NOTE <- paste(
  "se_coef is the model-based SE (sqrt diag of the inverse information); when robust_variance is",
  "true, robust_se, z, p, conf_int_* and wald_test use the robust (sandwich / cluster) variance,",
  "score_test is the model-based score test and robust_score_test the robust one. z, p, CIs are",
  "from summary(); loglik null is at beta = 0."
)

CONCORDANCE_NOTE <- paste(
  "Harrell's C as in summary(coxph): survival::concordance, timewt='n', ties in the predictor",
  "count 1/2, computed within strata; std = infinitesimal-jackknife SE"
)

test_row <- function(x) list(test = unname(x["test"]), df = unname(x["df"]), pvalue = unname(x["pvalue"]))

cox_concordance <- function(fit) {
  cc <- fit$concordance
  list(concordant = unname(cc["concordant"]), discordant = unname(cc["discordant"]),
       tied.x = unname(cc["tied.x"]), tied.y = unname(cc["tied.y"]), tied.xy = unname(cc["tied.xy"]),
       C = unname(cc["concordance"]), std = unname(cc["std"]), note = CONCORDANCE_NOTE)
}

cox_zph_ref <- function(fit) {
  z <- cox.zph(fit)
  list(call = "cox.zph(fit)  # transform = 'km', terms = TRUE", transform = "km",
       rows = rownames(z$table), chisq = vec(z$table[, "chisq"]), df = vec(z$table[, "df"]),
       p = vec(z$table[, "p"]))
}

cox_details <- function(fit) {
  sch <- residuals(fit, "schoenfeld")
  bh_u <- basehaz(fit, centered = FALSE)
  bh_c <- basehaz(fit, centered = TRUE)
  list(
    linear_predictors = list(
      note = "fit$linear.predictors (centred at fit$means; rows in data order after NA removal)",
      values = vec(fit$linear.predictors)),
    residuals_martingale = vec(residuals(fit, "martingale")),
    residuals_deviance = vec(residuals(fit, "deviance")),
    residuals_schoenfeld = list(
      note = "unscaled Schoenfeld residuals, one row per event, rownames = event times", mat(sch)),
    basehaz_uncentered = list(call = "basehaz(fit, centered = FALSE)", time = vec(bh_u$time),
                              hazard = vec(bh_u$hazard)),
    basehaz_centered = list(call = "basehaz(fit, centered = TRUE)  # at fit$means",
                            time = vec(bh_c$time), hazard = vec(bh_c$hazard))
  )
}

cox_analysis <- function(id, formula, data_expr, env, ties, description = NULL, details = FALSE) {
  call <- sprintf('coxph(%s, data = %s, ties = "%s")', formula, data_expr, ties)
  fit <- run(call, env)
  s <- summary(fit)
  cf <- s$coefficients
  robust <- !is.null(fit$naive.var)
  ci <- confint(fit)
  out <- list(
    id = id, type = "coxph", description = description, call = call, formula = formula,
    data = data_expr, ties = ties, robust_variance = robust, n = fit$n, nevent = fit$nevent,
    n_missing_dropped = length(fit$na.action), terms = names(coef(fit)),
    coef = vec(cf[, "coef"]), exp_coef = vec(cf[, "exp(coef)"]), se_coef = vec(cf[, "se(coef)"]),
    robust_se = if (robust) vec(cf[, "robust se"]) else NULL,
    z = vec(cf[, "z"]), p = vec(cf[, "Pr(>|z|)"]),
    conf_int_exp = list(level = 0.95, lower = vec(s$conf.int[, "lower .95"]),
                        upper = vec(s$conf.int[, "upper .95"])),
    conf_int_coef = list(level = 0.95, lower = vec(ci[, 1]), upper = vec(ci[, 2])),
    var = mat(unname(fit$var)), naive_var = if (robust) mat(unname(fit$naive.var)) else NULL,
    loglik = list(null = fit$loglik[1], final = fit$loglik[2]), iterations = fit$iter,
    # summary() prints the Wald statistic rounded to 2 decimals: the unrounded fit$wald.test
    lr_test = test_row(s$logtest),
    wald_test = test_row(c(test = unname(fit$wald.test), s$waldtest[c("df", "pvalue")])),
    score_test = test_row(s$sctest),
    robust_score_test = if (robust) test_row(s$robscore) else NULL,
    concordance = cox_concordance(fit), means = vec(fit$means),
    xlevels = if (is.null(fit$xlevels)) NULL else fit$xlevels,
    note = COX_NOTE, cox_zph = cox_zph_ref(fit)
  )
  if (details) out$details <- cox_details(fit)
  out
}

cox_survfit_analysis <- function(id, formula, data_expr, env, ties, newdata_expr, description) {
  cox_call <- sprintf('coxph(%s, data = %s, ties = "%s")', formula, data_expr, ties)
  fit <- run(cox_call, env)
  newdata <- run(newdata_expr, env)
  sf <- list(log = survfit(fit, newdata = newdata, conf.type = "log"),
             loglog = survfit(fit, newdata = newdata, conf.type = "log-log"))
  main <- sf$log
  list(
    id = id, type = "coxph_survfit", description = description, cox_call = cox_call,
    newdata = newdata_expr, newdata_values = newdata,
    call = "survfit(fit, newdata = newdata, conf.type = 'log' / 'log-log')  # Efron/Breslow per fit ties; stype=2, ctype follows ties",
    time = vec(main$time), n.risk = vec(main$n.risk), n.event = vec(main$n.event),
    surv = mat(main$surv), std.err = mat(main$std.err), cumhaz = mat(main$cumhaz),
    conf_log = list(lower = mat(sf$log$lower), upper = mat(sf$log$upper)),
    conf_loglog = list(lower = mat(sf$loglog$lower), upper = mat(sf$loglog$upper)),
    note = "matrices: one row per time, one column per newdata row; std.err is the SE of the cumulative hazard"
  )
}
