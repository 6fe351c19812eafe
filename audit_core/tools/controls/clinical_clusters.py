"""Condition clusters of the synthetic EHR code language.

Each cluster groups the real ICD-10-CM leaf codes of one condition with the labs and
medications that follow it, and says how common it is by age band and sex and which
other conditions raise its risk. The cohort generator draws patients from these
clusters, so comorbidity (diabetes -> CKD), treatment (HIV -> bictegravir, CD4 low)
and sensitive-code rates (HIV about 1 %, substance use about 9 %, mental health about
17 %) come out the way an auditor would expect of a real outpatient population.

Prevalences are per patient over the whole record, indexed by the eight age bands of
`AGE_BANDS`; they are plausible orders of magnitude, not epidemiology.
"""

from __future__ import annotations

from dataclasses import dataclass

# Decade bands (HIPAA safe harbor lumps 90+ together, so do we).
AGE_BANDS: tuple[str, ...] = (
    "AGE_18_29", "AGE_30_39", "AGE_40_49", "AGE_50_59",
    "AGE_60_69", "AGE_70_79", "AGE_80_89", "AGE_90_PLUS",
)
SEXES: tuple[str, ...] = ("SEX_F", "SEX_M")
# Women of child-bearing age: the only patients who may carry pregnancy codes.
CHILD_BEARING_BANDS: tuple[str, ...] = AGE_BANDS[:3]


@dataclass(frozen=True)
class ConditionCluster:
    """One chronic condition (per patient) or episodic one (per visit).

    `codes[0]` is the condition's usual code; later codes are rarer variants and
    complications. For episodic clusters `prevalence` is the chance per visit.
    """

    name: str
    codes: tuple[str, ...]
    prevalence: tuple[float, ...]
    labs: tuple[str, ...] = ()
    meds: tuple[str, ...] = ()
    episodic: bool = False
    # Multipliers applied when the patient already has the named (earlier) cluster.
    risk_from: tuple[tuple[str, float], ...] = ()
    female_multiplier: float = 1.0
    male_multiplier: float = 1.0
    only_female_child_bearing: bool = False

    def __post_init__(self) -> None:
        if len(self.prevalence) != len(AGE_BANDS):
            raise ValueError(f"cluster {self.name}: one prevalence per age band")


# Order matters: a cluster may only name earlier clusters in `risk_from`.
CHRONIC_CLUSTERS: tuple[ConditionCluster, ...] = (
    ConditionCluster(
        "obesity", ("E66.9", "E66.01", "Z68.35", "Z68.41", "E66.811"),
        (0.20, 0.26, 0.30, 0.32, 0.30, 0.25, 0.18, 0.10),
        meds=("RX_SEMAGLUTIDE",),
    ),
    ConditionCluster(
        "hypertension", ("I10", "I11.9", "I16.9", "I11.0", "R03.0"),
        (0.04, 0.09, 0.18, 0.32, 0.46, 0.56, 0.62, 0.62),
        labs=("LAB_POTASSIUM_LOW",),
        meds=("RX_LISINOPRIL", "RX_AMLODIPINE", "RX_LOSARTAN", "RX_HCTZ", "RX_METOPROLOL"),
        risk_from=(("obesity", 1.5),),
    ),
    ConditionCluster(
        "diabetes",
        ("E11.9", "E11.65", "Z79.84", "E11.22", "E11.40", "E11.42", "E11.319", "E11.21",
         "E11.8", "E11.649", "Z79.4", "R73.03", "E10.9", "E10.65", "E13.9"),
        (0.015, 0.03, 0.06, 0.11, 0.16, 0.19, 0.18, 0.15),
        labs=("LAB_HBA1C_HIGH", "LAB_GLUCOSE_HIGH"),
        meds=("RX_METFORMIN", "RX_INSULIN", "RX_EMPAGLIFLOZIN", "RX_GLIPIZIDE"),
        risk_from=(("obesity", 1.8), ("hypertension", 1.3)),
    ),
    ConditionCluster(
        "hyperlipidemia", ("E78.5", "E78.00", "E78.2", "E78.1"),
        (0.03, 0.08, 0.16, 0.26, 0.34, 0.38, 0.36, 0.30),
        labs=("LAB_LDL_HIGH", "LAB_TRIGLYCERIDES_HIGH"),
        meds=("RX_ATORVASTATIN", "RX_ROSUVASTATIN"),
        risk_from=(("diabetes", 1.5),),
    ),
    ConditionCluster(
        "ckd", ("N18.30", "N18.9", "N18.31", "N18.32", "N18.4", "N18.2", "N18.5", "N18.6",
                "D63.1", "E87.5", "I12.9"),
        (0.004, 0.008, 0.015, 0.03, 0.06, 0.11, 0.17, 0.22),
        labs=("LAB_EGFR_LOW", "LAB_CREATININE_HIGH", "LAB_POTASSIUM_HIGH"),
        meds=("RX_FUROSEMIDE", "RX_EPOETIN"),
        risk_from=(("diabetes", 2.5), ("hypertension", 1.8)),
    ),
    ConditionCluster(
        "cardiac", ("I50.9", "I25.10", "I48.91", "I50.22", "I50.32", "I50.42", "I48.0",
                    "I21.4", "Z95.1", "I13.10", "Z79.01"),
        (0.002, 0.004, 0.008, 0.02, 0.05, 0.09, 0.15, 0.20),
        labs=("LAB_BNP_HIGH", "LAB_TROPONIN_HIGH", "LAB_INR_HIGH"),
        meds=("RX_CARVEDILOL", "RX_FUROSEMIDE", "RX_SACUBITRIL_VALSARTAN",
              "RX_SPIRONOLACTONE", "RX_APIXABAN", "RX_WARFARIN"),
        risk_from=(("hypertension", 2.0), ("diabetes", 1.5)),
        male_multiplier=1.3,
    ),
    ConditionCluster(
        "copd_asthma", ("J45.909", "J44.9", "J45.20", "F17.210", "J44.1", "J45.40",
                        "J45.30", "J44.0", "J45.901", "Z87.891"),
        (0.08, 0.07, 0.07, 0.08, 0.11, 0.12, 0.12, 0.10),
        labs=("LAB_EOSINOPHILS_HIGH", "LAB_SPO2_LOW"),
        meds=("RX_ALBUTEROL", "RX_FLUTICASONE_SALMETEROL", "RX_TIOTROPIUM",
              "RX_MONTELUKAST", "RX_PREDNISONE"),
    ),
    ConditionCluster(
        "thyroid", ("E03.9", "E05.90"),
        (0.015, 0.02, 0.035, 0.05, 0.06, 0.07, 0.07, 0.07),
        labs=("LAB_TSH_HIGH",), meds=("RX_LEVOTHYROXINE",),
        female_multiplier=1.6, male_multiplier=0.4,
    ),
    # Substance use (42 CFR Part 2 territory). Nicotine stays in copd_asthma: it is not
    # treated as a sensitive category.
    ConditionCluster(
        "alcohol_use", ("F10.10", "F10.20", "F10.21", "Z71.41", "R74.01", "F10.129",
                        "F10.239", "F10.220", "K70.30", "K70.0", "K70.10"),
        (0.06, 0.06, 0.06, 0.06, 0.045, 0.03, 0.015, 0.005),
        labs=("LAB_GGT_HIGH", "LAB_ALT_HIGH"),
        meds=("RX_NALTREXONE", "RX_ACAMPROSATE", "RX_CHLORDIAZEPOXIDE"),
        female_multiplier=0.6, male_multiplier=1.4,
    ),
    ConditionCluster(
        "opioid_use", ("F11.20", "F11.10", "F11.21", "F11.23", "F11.90", "Z71.51",
                       "T40.2X1A", "T40.1X1A", "T40.411A"),
        (0.022, 0.026, 0.022, 0.017, 0.011, 0.006, 0.002, 0.001),
        labs=("LAB_UDS_POSITIVE",),
        meds=("RX_BUPRENORPHINE", "RX_METHADONE", "RX_NALOXONE"),
        risk_from=(("alcohol_use", 2.0),),
    ),
    ConditionCluster(
        "stimulant_cannabis_use", ("F12.10", "F14.10", "F12.20", "F15.10", "F14.20",
                                   "F15.20", "F12.90", "F15.90", "F19.10", "F19.20"),
        (0.05, 0.038, 0.022, 0.012, 0.006, 0.002, 0.001, 0.0),
        labs=("LAB_UDS_POSITIVE",),
        risk_from=(("alcohol_use", 2.0), ("opioid_use", 2.5)),
        male_multiplier=1.3, female_multiplier=0.7,
    ),
    ConditionCluster(
        "sedative_use", ("F13.10", "F13.20", "F13.239"),
        (0.005, 0.006, 0.006, 0.006, 0.005, 0.004, 0.003, 0.002),
        labs=("LAB_UDS_POSITIVE",), meds=("RX_LORAZEPAM",),
        risk_from=(("alcohol_use", 2.0), ("opioid_use", 3.0)),
    ),
    ConditionCluster(
        "sti", ("Z11.3", "A56.00", "A54.00", "Z20.2", "A60.00", "A59.01", "A53.9",
                "A63.0", "Z72.51", "A60.04", "A51.0", "A56.19", "A54.5", "Z72.52"),
        (0.05, 0.035, 0.018, 0.009, 0.004, 0.002, 0.001, 0.0),
        labs=("LAB_RPR_POSITIVE", "LAB_NAAT_POSITIVE"),
        meds=("RX_DOXYCYCLINE", "RX_CEFTRIAXONE", "RX_AZITHROMYCIN", "RX_VALACYCLOVIR",
              "RX_METRONIDAZOLE", "RX_PENICILLIN_G_BENZATHINE"),
        risk_from=(("stimulant_cannabis_use", 1.8), ("opioid_use", 1.8)),
    ),
    ConditionCluster(
        "hiv", ("B20", "Z21", "Z79.899", "R75", "Z20.6", "Z11.4"),
        (0.009, 0.013, 0.013, 0.011, 0.008, 0.004, 0.002, 0.001),
        labs=("LAB_CD4_LOW", "LAB_HIV_VL_DETECTABLE"),
        meds=("RX_BICTEGRAVIR", "RX_DOLUTEGRAVIR", "RX_TENOFOVIR_EMTRICITABINE"),
        risk_from=(("sti", 4.0), ("opioid_use", 2.0), ("stimulant_cannabis_use", 1.5)),
        female_multiplier=0.5, male_multiplier=1.5,
    ),
    ConditionCluster(
        "mental_health",
        ("F32.9", "F41.1", "F32.A", "F41.9", "F33.1", "F43.10", "F32.1", "F43.23",
         "F41.0", "F33.0", "F40.10", "F42.2", "F31.9", "F43.12", "F51.01", "F60.3",
         "F50.00", "F20.9", "R45.851", "T14.91XA", "Z91.51"),
        (0.22, 0.21, 0.19, 0.17, 0.14, 0.11, 0.10, 0.09),
        labs=("LAB_TSH_NORMAL",),
        meds=("RX_SERTRALINE", "RX_ESCITALOPRAM", "RX_FLUOXETINE", "RX_BUPROPION",
              "RX_TRAZODONE", "RX_QUETIAPINE", "RX_ARIPIPRAZOLE", "RX_LITHIUM"),
        risk_from=(("alcohol_use", 1.8), ("opioid_use", 2.0), ("stimulant_cannabis_use", 1.6),
                   ("sedative_use", 2.0), ("hiv", 1.5)),
        female_multiplier=1.25, male_multiplier=0.75,
    ),
    # Reproductive health: pregnancy, and contraception/fertility care, kept apart so a
    # record never mixes a contraceptive prescription into the pregnancy it belongs to.
    ConditionCluster(
        "pregnancy",
        ("Z34.00", "Z32.01", "Z3A.12", "Z34.80", "Z3A.20", "Z34.81", "Z34.82", "Z34.83",
         "Z3A.39", "O21.0", "O24.419", "O13.3", "O80", "Z37.0", "Z39.2", "O03.9",
         "O09.511", "O26.893", "O99.013", "O99.310", "O99.320", "O99.330", "O98.72"),
        (0.16, 0.14, 0.02, 0.0, 0.0, 0.0, 0.0, 0.0),
        labs=("LAB_HCG_POSITIVE",),
        meds=("RX_PRENATAL_VITAMINS",),
        only_female_child_bearing=True,
    ),
    ConditionCluster(
        "contraception_fertility",
        ("Z30.011", "Z30.430", "Z30.09", "Z31.41", "N97.9"),
        (0.18, 0.14, 0.05, 0.0, 0.0, 0.0, 0.0, 0.0),
        meds=("RX_ORAL_CONTRACEPTIVE", "RX_MEDROXYPROGESTERONE"),
        risk_from=(("pregnancy", 0.5),),
        only_female_child_bearing=True,
    ),
)

EPISODIC_CLUSTERS: tuple[ConditionCluster, ...] = (
    ConditionCluster(
        "acute_infection",
        ("J06.9", "N39.0", "J02.9", "J01.90", "J20.9", "U07.1", "A09", "B34.9", "J18.9",
         "H66.90", "J11.1", "J02.0", "J03.90", "H10.9", "L03.90", "L03.115", "A08.4",
         "N30.00", "J10.1"),
        (0.20,) * len(AGE_BANDS),
        labs=("LAB_WBC_HIGH", "LAB_CRP_HIGH"),
        meds=("RX_AMOXICILLIN", "RX_AZITHROMYCIN", "RX_NITROFURANTOIN", "RX_CEPHALEXIN",
              "RX_OSELTAMIVIR"),
        episodic=True,
    ),
    ConditionCluster(
        "injury",
        ("W19.XXXA", "S93.401A", "S39.012A", "S52.501A", "S61.411A", "W01.0XXA",
         "S06.0X0A", "S83.511A", "X58.XXXA", "S42.001A", "S01.81XA", "S20.212A",
         "V43.52XA", "W10.9XXA", "S72.001A"),
        (0.07, 0.06, 0.05, 0.05, 0.05, 0.06, 0.08, 0.10),
        labs=("LAB_HEMOGLOBIN_LOW",),
        meds=("RX_IBUPROFEN", "RX_ACETAMINOPHEN", "RX_OXYCODONE"),
        episodic=True,
    ),
)

ALL_CLUSTERS: tuple[ConditionCluster, ...] = CHRONIC_CLUSTERS + EPISODIC_CLUSTERS
CLUSTERS_BY_NAME: dict[str, ConditionCluster] = {c.name: c for c in ALL_CLUSTERS}


def _check_cluster_order() -> None:
    seen: set[str] = set()
    for cluster in CHRONIC_CLUSTERS:
        for other, _ in cluster.risk_from:
            if other not in seen:
                raise ValueError(f"cluster {cluster.name} depends on later cluster {other}")
        seen.add(cluster.name)


_check_cluster_order()
