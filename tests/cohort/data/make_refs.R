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

# Immortal time on the demo cohort (tests/cohort/data/demo_cohort.csv = npctrial demo-cohort --seed 1):
# OS and time to metastasis in months (30.4375 days) from the start of RT.
demo <- read.csv(file.path(out_dir, "demo_cohort.csv"), stringsAsFactors = FALSE)
start <- as.Date(demo$rt_start_date); last <- as.Date(demo$last_followup_date)
metd <- as.Date(ifelse(demo$metastasis_date == "", NA, demo$metastasis_date))
demo$os <- as.numeric(last - start) / 30.4375
demo$dmfs <- as.numeric(ifelse(is.na(metd), last, metd) - as.numeric(start)) / 30.4375
demo$id <- seq_len(nrow(demo))
demo$treatment <- factor(demo$treatment, levels = c("RT alone", "Chemoradiotherapy"))
lm_refs <- list()
for (L in c(12, 24)) {
  d <- subset(demo, os > L)
  d$met_by <- as.integer(d$metastasis == 1 & d$dmfs <= L)
  f <- coxph(Surv(os - L, death) ~ met_by, data = d, ties = "efron")
  lm_refs[[as.character(L)]] <- list(n = nrow(d), n_met = sum(d$met_by), events = sum(d$death),
    hr = unname(exp(coef(f))), logrank_p = survdiff(Surv(os - L, death) ~ met_by, data = d)$pvalue)
}
td <- tmerge(demo[, c("id", "treatment")], demo, id = id, death = event(os, death))
td <- tmerge(td, subset(demo, metastasis == 1), id = id, met = tdc(dmfs))
td$met[is.na(td$met)] <- 0
f_td <- coxph(Surv(tstart, tstop, death) ~ met + treatment, data = td, ties = "efron")
f_fixed <- coxph(Surv(os, death) ~ metastasis + treatment, data = demo, ties = "efron")
out <- jsonlite::fromJSON(file.path(out_dir, "refs.json"))
out$landmark <- lm_refs
out$time_dependent <- list(n_intervals = nrow(td), hr = unname(exp(coef(f_td))),
                           hr_fixed = unname(exp(coef(f_fixed))))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(out_dir, "refs.json"))
