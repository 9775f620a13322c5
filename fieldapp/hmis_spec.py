"""The HUD HMIS CSV Format, FY2026 (v1.0, effective 2025-10-01): its files, columns and code
lists, as Tandem's export writes them and its checker reads them.

Transcribed from ../shared/reference/hmis-csv/README.md (which names HUD's sources); a test
compares every header here with that reference. A column is `name type null list`: type S<n>
(text of at most n characters), I (non-negative whole number), D (YYYY-MM-DD), T (YYYY-MM-DD
hh:mm:ss), M (money, 2 decimals); null Y or N; list the code list its values come from ("-"
for none, "by-record-type" when Services.RecordType picks it). Lists not printed in the
reference are named but not held (LISTS lacks them): their columns are checked as integers.
"""

from dataclasses import dataclass

FY = 2026
CSV_VERSION = "2026 v1.0"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # S, I, D, T or M
    length: int | None  # for S
    nullable: bool
    list: str | None


_FILES = {
    "Export": """
        ExportID S32 N -
        SourceType I N 1.9
        SourceID S350 Y -
        SourceName S50 Y -
        SourceContactFirst S50 Y -
        SourceContactLast S50 Y -
        SourceContactPhone S10 Y -
        SourceContactExtension S5 Y -
        SourceContactEmail S320 Y -
        ExportDate T N -
        ExportStartDate D N -
        ExportEndDate D N -
        SoftwareName S50 N -
        SoftwareVersion S50 Y -
        CSVVersion S50 Y -
        ExportPeriodType I N 1.1
        ExportDirective I N 1.2
        HashStatus I N 1.5
        ImplementationID S200 N -
    """,
    "Organization": """
        OrganizationID S32 N -
        OrganizationName S200 N -
        VictimServiceProvider I N 1.10
        OrganizationCommonName S200 Y -
        DateCreated T N -
        DateUpdated T N -
        UserID S32 N -
        DateDeleted T Y -
        ExportID S32 N -
    """,
    "User": """
        UserID S32 N -
        UserFirstName S50 Y -
        UserLastName S50 Y -
        UserPhone S10 Y -
        UserExtension S5 Y -
        UserEmail S320 Y -
        DateCreated T N -
        DateUpdated T N -
        DateDeleted T Y -
        ExportID S32 N -
    """,
    "Project": """
        ProjectID S32 N -
        OrganizationID S32 N -
        ProjectName S200 N -
        ProjectCommonName S200 Y -
        OperatingStartDate D N -
        OperatingEndDate D Y -
        ContinuumProject I N 1.10
        ProjectType I Y 2.02.6
        HousingType I Y 2.02.D
        RRHSubType I Y 2.02.A
        ResidentialAffiliation I Y 1.10
        TargetPopulation I Y 2.02.7
        HOPWAMedAssistedLivingFac I Y 2.02.8
        PITCount I Y -
        DateCreated T N -
        DateUpdated T N -
        UserID S32 N -
        DateDeleted T Y -
        ExportID S32 N -
    """,
    "Funder": """
        FunderID S32 N -
        ProjectID S32 N -
        Funder I N 2.06.1
        OtherFunder S100 Y -
        GrantID S100 Y -
        StartDate D N -
        EndDate D Y -
        DateCreated T N -
        DateUpdated T N -
        UserID S32 N -
        DateDeleted T Y -
        ExportID S32 N -
    """,
    "ProjectCoC": """
        ProjectCoCID S32 N -
        ProjectID S32 N -
        CoCCode S6 N -
        Geocode S6 N -
        Address1 S100 Y -
        Address2 S100 Y -
        City S50 Y -
        State S2 Y -
        ZIP S5 Y -
        GeographyType I Y 2.03.4
        DateCreated T N -
        DateUpdated T N -
        UserID S32 N -
        DateDeleted T Y -
        ExportID S32 N -
    """,
    "HMISParticipation": """
        HMISParticipationID S32 N -
        ProjectID S32 N -
        HMISParticipationType I N 2.08.1
        HMISParticipationStatusStartDate D N -
        HMISParticipationStatusEndDate D Y -
        DateCreated T N -
        DateUpdated T N -
        UserID S32 N -
        DateDeleted T Y -
        ExportID S N -
    """,
    "CEParticipation": """
        CEParticipationID S32 N -
        ProjectID S32 N -
        AccessPoint I N 1.10
        PreventionAssessment I Y 1.10
        CrisisAssessment I Y 1.10
        HousingAssessment I Y 1.10
        DirectServices I Y 1.10
        ReceivesReferrals I N 1.10
        CEParticipationStatusStartDate D N -
        CEParticipationStatusEndDate D Y -
        DateCreated T N -
        DateUpdated T N -
        UserID S32 N -
        DateDeleted T Y -
        ExportID S N -
    """,
    "Client": """
        PersonalID S32 N -
        FirstName S50 Y -
        MiddleName S50 Y -
        LastName S50 Y -
        NameSuffix S50 Y -
        NameDataQuality I N 3.01.5
        SSN S9 Y -
        SSNDataQuality I N 3.02.2
        DOB D Y -
        DOBDataQuality I N 3.03.2
        Sex I Y 4.21
        AmIndAKNative I N 1.10
        Asian I N 1.10
        BlackAfAmerican I N 1.10
        HispanicLatinao I N 1.10
        MidEastNAfrican I N 1.10
        NativeHIPacific I N 1.10
        White I N 1.10
        RaceNone I Y 1.6
        AdditionalRaceEthnicity S100 Y -
        VeteranStatus I N 1.8
        YearEnteredService I Y -
        YearSeparated I Y -
        WorldWarII I Y 1.8
        KoreanWar I Y 1.8
        VietnamWar I Y 1.8
        DesertStorm I Y 1.8
        AfghanistanOEF I Y 1.8
        IraqOIF I Y 1.8
        IraqOND I Y 1.8
        OtherTheater I Y 1.8
        MilitaryBranch I Y V1.11
        DischargeStatus I Y V1.12
        DateCreated T N -
        DateUpdated T N -
        UserID S32 N -
        DateDeleted T Y -
        ExportID S32 N -
    """,
    "Enrollment": """
        EnrollmentID S32 N -
        PersonalID S32 N -
        ProjectID S32 N -
        EntryDate D N -
        HouseholdID S32 N -
        RelationshipToHoH I N 3.15.1
        EnrollmentCoC S6 Y -
        LivingSituation I Y 3.12.1
        RentalSubsidyType I Y 3.12.A
        LengthOfStay I Y 3.917.2
        LOSUnderThreshold I Y 1.7
        PreviousStreetESSH I Y 1.7
        DateToStreetESSH D Y -
        TimesHomelessPastThreeYears I Y 3.917.4
        MonthsHomelessPastThreeYears I Y 3.917.5
        DisablingCondition I N 1.8
        DateOfEngagement D Y -
        MoveInDate D Y -
        DateOfPATHStatus D Y -
        ClientEnrolledInPATH I Y 1.7
        ReasonNotEnrolled I Y P3.A
        PercentAMI I Y V4.1
        ReferralSource I Y R1.1
        CountOutreachReferralApproaches I Y -
        DateOfBCPStatus D Y -
        EligibleForRHY I Y 1.7
        ReasonNoServices I Y R2.A
        RunawayYouth I Y 1.8
        FormerWardChildWelfare I Y 1.8
        ChildWelfareYears I Y R11.A
        ChildWelfareMonths I Y -
        FormerWardJuvenileJustice I Y 1.8
        JuvenileJusticeYears I Y R11.A
        JuvenileJusticeMonths I Y -
        UnemploymentFam I Y 1.8
        MentalHealthDisorderFam I Y 1.8
        PhysicalDisabilityFam I Y 1.8
        AlcoholDrugUseDisorderFam I Y 1.8
        InsufficientIncome I Y 1.8
        IncarceratedParent I Y 1.8
        VAMCStation S5 Y V6.1
        TargetScreenReqd I Y 1.7
        TimeToHousingLoss I Y V7.A
        AnnualPercentAMI I Y V7.B
        LiteralHomelessHistory I Y V7.C
        ClientLeaseholder I Y 1.7
        HOHLeaseholder I Y 1.7
        SubsidyAtRisk I Y 1.7
        EvictionHistory I Y V7.G
        CriminalRecord I Y 1.7
        IncarceratedAdult I Y V7.I
        PrisonDischarge I Y 1.7
        SexOffender I Y 1.7
        DisabledHoH I Y 1.7
        CurrentPregnant I Y 1.7
        SingleParent I Y 1.7
        DependentUnder6 I Y V7.O
        HH5Plus I Y 1.7
        CoCPrioritized I Y 1.7
        HPScreeningScore I Y -
        ThresholdScore I Y -
        MentalHealthConsultation I Y V10
        DateCreated T N -
        DateUpdated T N -
        UserID S32 N -
        DateDeleted T Y -
        ExportID S32 N -
    """,
    "CurrentLivingSituation": """
        CurrentLivingSitID S32 N -
        EnrollmentID S32 N -
        PersonalID S32 N -
        InformationDate D N -
        CurrentLivingSituation I N 3.12.1
        CLSSubsidyType I Y 3.12.A
        VerifiedBy S200 Y -
        LeaveSituation14Days I Y 1.8
        SubsequentResidence I Y 1.8
        ResourcesToObtain I Y 1.8
        LeaseOwn60Day I Y 1.8
        MovedTwoOrMore I Y 1.8
        LocationDetails S250 Y -
        DateCreated T N -
        DateUpdated T N -
        UserID S32 N -
        DateDeleted T Y -
        ExportID S32 N -
    """,
    "Services": """
        ServicesID S32 N -
        EnrollmentID S32 N -
        PersonalID S32 N -
        DateProvided D N -
        RecordType I N 1.4
        TypeProvided I N by-record-type
        OtherTypeProvided S50 Y -
        MovingOnOtherType S50 Y -
        SubTypeProvided I Y by-record-type
        FAAmount M Y -
        FAStartDate D Y -
        FAEndDate D Y -
        ReferralOutcome I Y P2.A
        DateCreated T N -
        DateUpdated T N -
        UserID S32 N -
        DateDeleted T Y -
        ExportID S32 N -
    """,
    "Exit": """
        ExitID S32 N -
        EnrollmentID S32 N -
        PersonalID S32 N -
        ExitDate D N -
        Destination I N 3.12.1
        DestinationSubsidyType I Y 3.12.A
        OtherDestination S50 Y -
        HousingAssessment I Y W5.1
        SubsidyInformation I Y W5.AB
        ProjectCompletionStatus I Y R17.1
        EarlyExitReason I Y R17.A
        ExchangeForSex I Y 1.8
        ExchangeForSexPastThreeMonths I Y 1.8
        CountOfExchangeForSex I Y R15.B
        AskedOrForcedToExchangeForSex I Y 1.8
        AskedOrForcedToExchangeForSexPastThreeMonths I Y 1.8
        WorkplaceViolenceThreats I Y 1.8
        WorkplacePromiseDifference I Y 1.8
        CoercedToContinueWork I Y 1.8
        LaborExploitPastThreeMonths I Y 1.8
        CounselingReceived I Y 1.10
        IndividualCounseling I Y 1.10
        FamilyCounseling I Y 1.10
        GroupCounseling I Y 1.10
        SessionCountAtExit I Y -
        PostExitCounselingPlan I Y 1.10
        SessionsInPlan I Y -
        DestinationSafeClient I Y 1.8
        DestinationSafeWorker I Y R19.A
        PosAdultConnections I Y R19.A
        PosPeerConnections I Y R19.A
        PosCommunityConnections I Y R19.A
        AftercareDate D Y -
        AftercareProvided I Y R20.2
        EmailSocialMedia I Y 1.10
        Telephone I Y 1.10
        InPersonIndividual I Y 1.10
        InPersonGroup I Y 1.10
        CMExitReason I Y V9.1
        DateCreated T N -
        DateUpdated T N -
        UserID S32 N -
        DateDeleted T Y -
        ExportID S32 N -
    """,
}

# Files the FY2026 specification defines whose columns we print but whose rows Tandem never
# writes (it writes their header only, as the reference advises); names only, no types.
HEADER_ONLY = {
    "Disabilities": "DisabilitiesID EnrollmentID PersonalID InformationDate DisabilityType "
                    "DisabilityResponse IndefiniteAndImpairs TCellCountAvailable TCellCount "
                    "TCellSource ViralLoadAvailable ViralLoad ViralLoadSource AntiRetroviral "
                    "DataCollectionStage DateCreated DateUpdated UserID DateDeleted ExportID",
    "HealthAndDV": "HealthAndDVID EnrollmentID PersonalID InformationDate "
                   "DomesticViolenceSurvivor WhenOccurred CurrentlyFleeing GeneralHealthStatus "
                   "DentalHealthStatus MentalHealthStatus PregnancyStatus DueDate "
                   "DataCollectionStage DateCreated DateUpdated UserID DateDeleted ExportID",
    "IncomeBenefits": "IncomeBenefitsID EnrollmentID PersonalID InformationDate "
                      "IncomeFromAnySource TotalMonthlyIncome Earned EarnedAmount Unemployment "
                      "UnemploymentAmount SSI SSIAmount SSDI SSDIAmount VADisabilityService "
                      "VADisabilityServiceAmount VADisabilityNonService "
                      "VADisabilityNonServiceAmount PrivateDisability PrivateDisabilityAmount "
                      "WorkersComp WorkersCompAmount TANF TANFAmount GA GAAmount "
                      "SocSecRetirement SocSecRetirementAmount Pension PensionAmount "
                      "ChildSupport ChildSupportAmount Alimony AlimonyAmount OtherIncomeSource "
                      "OtherIncomeAmount OtherIncomeSourceIdentify BenefitsFromAnySource SNAP "
                      "WIC TANFChildCare TANFTransportation OtherTANF OtherBenefitsSource "
                      "OtherBenefitsSourceIdentify InsuranceFromAnySource Medicaid "
                      "NoMedicaidReason Medicare NoMedicareReason SCHIP NoSCHIPReason "
                      "VHAServices NoVHAReason EmployerProvided NoEmployerProvidedReason COBRA "
                      "NoCOBRAReason PrivatePay NoPrivatePayReason StateHealthIns "
                      "NoStateHealthInsReason IndianHealthServices NoIndianHealthServicesReason "
                      "OtherInsurance OtherInsuranceIdentify ADAP NoADAPReason RyanWhiteMedDent "
                      "NoRyanWhiteReason ConnectionWithSOAR DataCollectionStage DateCreated "
                      "DateUpdated UserID DateDeleted ExportID",
    "EmploymentEducation": "EmploymentEducationID EnrollmentID PersonalID InformationDate "
                           "LastGradeCompleted SchoolStatus Employed EmploymentType "
                           "NotEmployedReason DataCollectionStage DateCreated DateUpdated UserID "
                           "DateDeleted ExportID",
}


def _column(line: str) -> Column:
    name, kind, null, code_list = line.split()
    length = None
    if kind[0] == "S":  # a bare S (two ExportIDs in the reference) is S32 like every other
        length = int(kind[1:] or 32)
    return Column(name, kind[0], length, null == "Y", None if code_list == "-" else code_list)


FILES: dict[str, tuple[Column, ...]] = {
    name: tuple(_column(line) for line in text.strip().splitlines())
    for name, text in _FILES.items()}


def header(name: str) -> list[str]:
    """The exact header row of `name`.csv."""
    if name in FILES:
        return [c.name for c in FILES[name]]
    return HEADER_ONLY[name].split()


ALL_FILES = (*FILES, *HEADER_ONLY)
# Every file a Street Outreach (ProjectType 4) export needs, rows or not.
REQUIRED_FILES = ("Export", "Organization", "User", "Project", "Funder", "ProjectCoC",
                  "HMISParticipation", "Client", "Enrollment", "CurrentLivingSituation",
                  "Services", "Exit")
# The key column of each file with rows.
KEYS = {name: cols[0].name for name, cols in FILES.items()}


def _codes(*parts) -> frozenset[int]:
    out = set()
    for part in parts:
        out.update(range(part[0], part[1] + 1) if isinstance(part, tuple) else [part])
    return frozenset(out)


LIVING_SITUATIONS = _codes(116, 101, 118, 215, 206, 207, 225, 204, 205, 302, 329, 314, 332, 312,
                           313, 327, 336, 335, 422, 423, 426, 410, 435, 421, 411, 30, 17, 24,
                           37, 8, 9, 99)
# List 3.12.1 as each element may use it: prior (3.917), current (4.12), destination (3.12).
PRIOR_LIVING = LIVING_SITUATIONS - {312, 313, 327, 422, 423, 426, 30, 17, 24, 37}
CURRENT_LIVING = LIVING_SITUATIONS - {312, 313, 327, 422, 423, 426, 30, 24}
DESTINATIONS = LIVING_SITUATIONS - {336, 335, 37}

LISTS: dict[str, frozenset[int]] = {
    "1.1": _codes(1, 3, 4),
    "1.2": _codes(1, 2, 3),
    "1.4": _codes(141, 142, 143, 144, 151, 152, 161, 200, 210, 300),
    "1.5": _codes(1, 2, 3, 4),
    "1.6": _codes(8, 9, 99),
    "1.7": _codes(0, 1, 99),
    "1.8": _codes(0, 1, 8, 9, 99),
    "1.9": _codes(1, 2, 3, 4),
    "1.10": _codes(0, 1),
    "2.02.6": _codes((0, 4), (6, 14)),
    "2.02.D": _codes(1, 2, 3),
    "2.02.A": _codes(1, 2),
    "2.02.7": _codes(1, 3, 4),
    "2.02.8": _codes(0, 1, 2),
    "2.03.4": _codes(1, 2, 3, 99),
    # FY2026: 47 and 48 retired; 12 and 49 deprecated (FY2024 only).
    "2.06.1": _codes((1, 11), (13, 27), 30, (33, 46), (50, 56)),
    "2.08.1": _codes(0, 1, 2),
    "3.01.5": _codes(1, 2, 8, 9, 99),
    "3.02.2": _codes(1, 2, 8, 9, 99),
    "3.03.2": _codes(1, 2, 8, 9, 99),
    "3.12.1": LIVING_SITUATIONS,
    "3.12.A": _codes(419, 420, 428, 431, 433, 434, (436, 440)),
    "3.15.1": _codes((1, 5), 99),
    "3.917.2": _codes(10, 11, (2, 5), 8, 9, 99),
    "3.917.4": _codes((1, 4), 8, 9, 99),
    "3.917.5": _codes((101, 113), 8, 9, 99),
    "4.21": _codes(0, 1, 8, 9, 99),
    "P1.2": _codes((1, 12), 14),
    "P2.2": _codes((1, 11)),
    "P2.A": _codes(1, 2, 3),
    "P3.A": _codes(1, 2, 3),
    "R14.2": _codes(2, 5, 6, 7, 8, 10, 12, 13, 14, 17, 18, 26, 27, 28, 29),
    "V1.11": _codes((1, 4), 6, 7, 8, 9, 99),
    "V1.12": _codes(1, 2, (4, 7), 8, 9, 99),
    "V10": _codes((1, 4)),
}
# The list of Services.TypeProvided for each RecordType whose list the reference prints.
TYPE_PROVIDED = {141: "P1.2", 142: "R14.2", 161: "P2.2", 200: None}
# Record types in Services (list 1.4).
PATH_SERVICE, PATH_REFERRAL = 141, 161
# Funding sources (2.06.1) that ask for Services rows in a Street Outreach project.
PATH_FUNDER = 21
OTHER_FUNDER = 46

FORBIDDEN_CHARACTERS = "<>[]{}"  # FY2026: strip these; every other UTF-8 character is allowed
