# The per-dataset reference documents: lung, veteran, ovarian, mgus2, bladder.

lung_ref <- function(env, out_dir) {
  km <- function(...) km_analysis(..., data_expr = "lung", env = env, time_unit = "days",
                                  times = c(180, 365, 730))
  sd <- function(...) survdiff_analysis(..., data_expr = "lung", env = env)
  cx <- function(...) cox_analysis(..., data_expr = "lung", env = env)
  base <- "Surv(time, status) ~ age + sex + ph.ecog"
  nd <- "data.frame(age = c(60, 70), sex = c(1, 2), ph.ecog = c(0, 2))"
  c(dataset_header("lung", lung, "NCCTG advanced lung cancer trial (Loprinzi et al., 1994)", "days",
                   "status: 1 = censored, 2 = dead (Surv() accepts 1/2 coding)"),
    list(analyses = list(
      km("km_overall", "Surv(time, status) ~ 1"),
      km("km_by_sex", "Surv(time, status) ~ sex", description = "sex: 1 = male, 2 = female"),
      sd("logrank_sex", "Surv(time, status) ~ sex", rho = 0),
      sd("petopeto_sex", "Surv(time, status) ~ sex", rho = 1),
      sd("logrank_sex_strata_ecog", "Surv(time, status) ~ sex + strata(ph.ecog)", rho = 0,
         description = "stratified log-rank; 1 row with missing ph.ecog dropped"),
      cx("cox_efron", base, ties = "efron", details = TRUE),
      cx("cox_breslow", base, ties = "breslow", details = TRUE),
      cx("cox_exact", base, ties = "exact",
         description = "exact partial likelihood (discrete/conditional logistic)"),
      cx("cox_efron_factor_ecog", "Surv(time, status) ~ age + sex + factor(ph.ecog)", ties = "efron",
         description = "factor covariate; reference level ph.ecog = 0 (level 3 has a single patient)"),
      cx("cox_efron_strata_sex", "Surv(time, status) ~ age + ph.ecog + strata(sex)", ties = "efron"),
      cx("cox_efron_cluster_inst", "Surv(time, status) ~ age + sex + ph.ecog + cluster(inst)",
         ties = "efron",
         description = "robust (grouped jackknife/sandwich) variance, clustered by institution"),
      cox_survfit_analysis("cox_efron_survfit_newdata", base, "lung", env, "efron", nd,
                           "predicted survival curves from the Efron fit"),
      cox_survfit_analysis("cox_breslow_survfit_newdata", base, "lung", env, "breslow", nd,
                           "predicted survival curves from the Breslow fit")
    )))
}

veteran_ref <- function(env, out_dir) {
  km <- function(...) km_analysis(..., data_expr = "veteran", env = env, time_unit = "days",
                                  times = c(30, 90, 180, 365))
  sd <- function(...) survdiff_analysis(..., data_expr = "veteran", env = env)
  cx <- function(...) cox_analysis(..., data_expr = "veteran", env = env)
  full <- "Surv(time, status) ~ trt + celltype + karno + diagtime + age + prior"
  c(dataset_header("veteran", veteran,
                   "Veterans' Administration lung cancer randomised trial (Kalbfleisch & Prentice, 1980)",
                   "days", "status: 1 = dead, 0 = censored"),
    list(analyses = list(
      km("km_overall", "Surv(time, status) ~ 1"),
      km("km_by_trt", "Surv(time, status) ~ trt", description = "trt: 1 = standard, 2 = test"),
      km("km_by_celltype", "Surv(time, status) ~ celltype"),
      sd("logrank_trt", "Surv(time, status) ~ trt", rho = 0),
      sd("petopeto_trt", "Surv(time, status) ~ trt", rho = 1),
      sd("logrank_celltype", "Surv(time, status) ~ celltype", rho = 0, description = "4 groups, df = 3"),
      sd("petopeto_celltype", "Surv(time, status) ~ celltype", rho = 1),
      sd("logrank_trt_strata_celltype", "Surv(time, status) ~ trt + strata(celltype)", rho = 0),
      cx("cox_efron", full, ties = "efron",
         description = "celltype is a factor (reference = squamous); karno is known to violate PH"),
      cx("cox_breslow", full, ties = "breslow"),
      cx("cox_efron_strata_celltype", "Surv(time, status) ~ trt + karno + strata(celltype)", ties = "efron")
    )))
}

ovarian_ref <- function(env, out_dir) {
  km <- function(...) km_analysis(..., data_expr = "ovarian", env = env, time_unit = "days",
                                  times = c(365, 730, 1095))
  sd <- function(...) survdiff_analysis(..., data_expr = "ovarian", env = env)
  cx <- function(...) cox_analysis(..., data_expr = "ovarian", env = env)
  c(dataset_header("ovarian", ovarian,
                   "Ovarian cancer trial (Edmunson et al., 1979, Cancer Treatment Reports)", "days",
                   "n = 26, 12 deaths; no tied event times (Efron = Breslow)"),
    list(analyses = list(
      km("km_overall", "Surv(futime, fustat) ~ 1"),
      km("km_by_rx", "Surv(futime, fustat) ~ rx"),
      sd("logrank_rx", "Surv(futime, fustat) ~ rx", rho = 0),
      sd("petopeto_rx", "Surv(futime, fustat) ~ rx", rho = 1),
      sd("logrank_rx_strata_resid", "Surv(futime, fustat) ~ rx + strata(resid.ds)", rho = 0),
      cx("cox_efron", "Surv(futime, fustat) ~ age + rx + ecog.ps", ties = "efron"),
      cx("cox_breslow", "Surv(futime, fustat) ~ age + rx + ecog.ps", ties = "breslow"),
      cx("cox_efron_strata_resid", "Surv(futime, fustat) ~ age + rx + strata(resid.ds)", ties = "efron")
    )))
}

MGUS2_CR <- paste0(
  "transform(mgus2, etime = ifelse(pstat == 0, futime, ptime), ",
  "event = ifelse(pstat == 0, 2 * death, 1), male = as.numeric(sex == 'M'))"
)
MGUS2_SURV <- "Surv(etime, factor(event, 0:2, labels = c('censor', 'pcm', 'death')))"

mgus2_ref <- function(env, out_dir) {
  km <- function(...) km_analysis(..., data_expr = "mgus2", env = env, time_unit = "months",
                                  times = c(12, 60, 120))
  sd <- function(...) survdiff_analysis(..., data_expr = "mgus2", env = env)
  cx <- function(...) cox_analysis(..., data_expr = "mgus2", env = env)
  crr_call <- function(code) sprintf(
    "with(%s, crr(ftime = etime, fstatus = event, cov1 = cbind(age = age, male = male), failcode = %d, cencode = 0))",
    MGUS2_CR, code)
  fg_call <- function(etype) sprintf(
    "finegray(%s ~ ., data = %s[, c('etime', 'event', 'age', 'male')], etype = \"%s\")",
    MGUS2_SURV, MGUS2_CR, etype)
  c(dataset_header("mgus2", mgus2,
                   "Monoclonal gammopathy (MGUS) natural history, Mayo Clinic (Kyle et al., 2002)", "months",
                   "competing-risk coding as in the survival 'compete' vignette: etime = ptime if pstat == 1 else futime; event = 1 (pcm) if pstat == 1, else 2 * death"),
    list(analyses = list(
      km("km_death_overall", "Surv(futime, death) ~ 1"),
      km("km_death_by_sex", "Surv(futime, death) ~ sex"),
      sd("logrank_death_sex", "Surv(futime, death) ~ sex", rho = 0),
      sd("petopeto_death_sex", "Surv(futime, death) ~ sex", rho = 1),
      cx("cox_death_efron", "Surv(futime, death) ~ age + sex + hgb + creat", ties = "efron"),
      cx("cox_death_breslow", "Surv(futime, death) ~ age + sex + hgb + creat", ties = "breslow"),
      cx("cox_death_strata_sex", "Surv(futime, death) ~ age + hgb + creat + strata(sex)", ties = "efron"),
      cuminc_analysis(
        "cuminc_by_sex",
        sprintf("with(%s, cuminc(ftime = etime, fstatus = event, group = sex, cencode = 0))", MGUS2_CR),
        env, times = c(12, 60, 120, 240),
        description = "competing risks: progression to plasma cell malignancy (pcm) vs death without pcm; time = ptime if progressed else futime",
        cause_codes = list("0" = "censored", "1" = "pcm", "2" = "death")),
      crr_analysis("crr_pcm", crr_call(1), env, 1, "Fine-Gray for pcm, death competing"),
      crr_analysis("crr_death", crr_call(2), env, 2, "Fine-Gray for death without pcm, pcm competing"),
      finegray_analysis("finegray_pcm", fg_call("pcm"), env, c("age", "male")),
      finegray_analysis("finegray_death", fg_call("death"), env, c("age", "male")),
      aalen_johansen_analysis("aalen_johansen_by_sex",
                              sprintf("survfit(%s ~ sex, data = %s)", MGUS2_SURV, MGUS2_CR), env)
    )))
}

bladder_ref <- function(env, out_dir) {
  first <- "subset(bladder, enum == 1)"
  km <- function(...) km_analysis(..., data_expr = first, env = env, time_unit = "months",
                                  times = c(12, 24, 36))
  sd <- function(...) survdiff_analysis(..., data_expr = first, env = env)
  wlw <- "Surv(stop, event) ~ rx + size + number + strata(enum) + cluster(id)"
  c(dataset_header("bladder", bladder,
                   "Bladder cancer recurrences, thiotepa vs placebo (Andrews & Herzberg, 1985; Wei, Lin & Weissfeld, 1989)",
                   "months", "WLW layout: 4 rows per patient (enum 1-4); the bladder1 dataset is not used"),
    list(analyses = list(
      km("km_first_overall", "Surv(stop, event) ~ 1", description = "first recurrence (enum == 1)"),
      km("km_first_by_rx", "Surv(stop, event) ~ rx", description = "rx: 1 = placebo, 2 = thiotepa"),
      sd("logrank_first_rx", "Surv(stop, event) ~ rx", rho = 0),
      sd("petopeto_first_rx", "Surv(stop, event) ~ rx", rho = 1),
      cox_analysis("cox_first_efron", "Surv(stop, event) ~ rx + size + number", first, env, "efron"),
      cox_analysis("cox_first_breslow", "Surv(stop, event) ~ rx + size + number", first, env, "breslow"),
      cox_analysis("cox_wlw_cluster_id", wlw, "bladder", env, "efron",
                   description = "Wei-Lin-Weissfeld marginal model, stratified by event number, robust variance clustered on id"),
      cox_analysis("cox_wlw_cluster_id_breslow", wlw, "bladder", env, "breslow")
    )))
}
