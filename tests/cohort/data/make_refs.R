# Reference values for the cohort-layer tests (R 4.2, survival 3.5). Regenerate with:
#   Rscript tests/cohort/data/make_refs.R   (from the repository root)
# Data: R's survival::lung (the same data as tests/data/refs/data/lung.csv).
suppressPackageStartupMessages({library(survival); library(jsonlite)})
out_dir <- "tests/cohort/data"
d <- lung
d$dead <- as.integer(d$status == 2)
refs <- list()
# Table 1, continuous factors by death: wilcox.test (normal approximation with continuity and tie
# corrections: ties present), kruskal.test by ph.ecog; medians and quartiles (quantile type 7).
for (v in c("age", "wt.loss", "meal.cal")) {
  x <- d[[v]]
  w <- wilcox.test(x[d$dead == 1], x[d$dead == 0], exact = FALSE, correct = TRUE)
  refs[[paste0("wilcox_", v)]] <- list(p = w$p.value,
    q_dead = unname(quantile(x[d$dead == 1], c(.25, .5, .75), na.rm = TRUE)),
    q_alive = unname(quantile(x[d$dead == 0], c(.25, .5, .75), na.rm = TRUE)),
    n_missing_dead = sum(is.na(x[d$dead == 1])), n_missing_alive = sum(is.na(x[d$dead == 0])))
}
refs$kruskal_age_by_ecog <- list(p = kruskal.test(age ~ factor(ph.ecog), data = d)$p.value)
# exact Wilcoxon: small groups without ties
x <- c(1.1, 2.3, 3.7, 4.2, 5.9); y <- c(2.8, 6.1, 7.4, 8.8)
refs$wilcox_exact <- list(x = x, y = y, p = wilcox.test(x, y)$p.value)
# Cox univariate on available cases (each covariate's own complete rows)
for (v in c("age", "wt.loss", "meal.cal")) {
  f <- coxph(as.formula(paste0("Surv(time, dead) ~ `", v, "`")), data = d, ties = "efron")
  refs[[paste0("cox_", v)]] <- list(n = f$n, nevent = f$nevent, hr = unname(exp(coef(f))),
                                    p = unname(summary(f)$coefficients[, "Pr(>|z|)"]))
}
# multivariate on complete cases
f <- coxph(Surv(time, dead) ~ age + wt.loss + meal.cal, data = d, ties = "efron")
refs$cox_multi <- list(n = f$n, nevent = f$nevent, hr = unname(exp(coef(f))),
                       zph_p = unname(cox.zph(f)$table[, "p"]))
# medians with 95% CI by sex (print(survfit))
km <- survfit(Surv(time, dead) ~ sex, data = d)
tab <- summary(km)$table
refs$km_median_by_sex <- list(median = unname(tab[, "median"]), lower = unname(tab[, "0.95LCL"]),
                              upper = unname(tab[, "0.95UCL"]))
s <- summary(km, times = c(180, 365, 730))
refs$km_at_by_sex <- list(strata = as.character(s$strata), time = s$time, n_risk = s$n.risk,
                          n_event = s$n.event)
refs$versions <- list(R = R.version.string, survival = as.character(packageVersion("survival")))
writeLines(toJSON(refs, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(out_dir, "refs.json"))
