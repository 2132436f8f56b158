import XCTest
@testable import NINStudy

/// Trial ids are the SHA-256 of the resolved configuration's canonical JSON: a refactor of the
/// configuration types must not change them, or every recorded result loses its trial. This pins
/// the id of every trial of every study file in `Studies/`, in expansion order (change a pin only
/// when the meaning of a resolved key changes, together with `TrialConfig.formatVersion`).
final class TrialIdPinTests: XCTestCase {
    static let studies = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Studies")

    static let pinned: [String: [String]] = [
        "cifar10-width-sweep-small.json": [
            "fa379ae51ef139e45fa71261f07a6c25626c77c688c670837bc806a4e38d0359",
            "db04cbbd5ce9f1d44d83dd7ecf29bc5fc0dfbabda81c7f576c5e62f7abbc5222",
            "ea5077fffe46045157fb3bc92387253c23182b0ca34c0285b0d648943ad8ff35",
        ],
        "cifar10-width-sweep.json": [
            "b0e7345cc5dfb492876dd39992aec9bbfeccfadb0d8a9a4b5af71677e683b933",
            "1174cae4e2b19217f2ebddddfb7d79541a9ab61d2ebf807b037ff75ec2c6dc56",
            "b501a45cd2315368b11bf8f542c7f119848a771fc950cc0a2542b0e638c5382b",
            "a1e39aa7e9d7ab74beb55e806ab2dfbe599833e90d5a695a1482497d088a7b1b",
            "3b99baa0542c1066715768b2148b91d7f818543512e0033cb33864da29a8aab9",
            "f2242af1c7dc48d9379c0208f256ba9c395a7a211bf68174940a1d33e6da1ed6",
            "dbd62ec00acec9f3d51f6d3ec55f18655ab2743923b1252685dc75f7363d74b8",
            "ffc9c6b981e2957e56a7804be51a9d3b4fe9bf8ff05b5dc92fbeabff377d4456",
            "e42552b6426a1c8f88efbdbbe2ace21ddf6301a9854e5df89f8045583d094901",
            "02263bb0bb5a5193e18c7ad5a851579555086671c5bbf643ba6d57536d14dbdc",
            "8cf6c5a2b7dc2dda48f9349062953e2ecd3eb437c622988917f35f49cf04ab56",
            "85d8c1f1ee5f357992a8747d38341a5745de00d30277d4765ae3791296cf7a64",
        ],
        "precision-cifar10.json": [
            "a62cb8d09a0650aec1b4e161cc1f8e57e1d428f6f43be53f12f36837c80eeaf2",
            "e99ac23009c5fa44147117b3d734c3b19b0e0a66c59c38cc2f3c07c2bb8db046",
            "ee36427ec30054b813ad50179171e6f72f9ca05c94cfa2c7cea2d5f55a49fa24",
            "e4a388c16423e1899d50abd60f5d231522873aa35f78e319d9e06216ce719ba1",
            "6984fce403059135d3d638f32679809b22d50a62039d44a481317830a2ebb9dd",
            "a0de2ce9a1a4e15f95e596f8b328027143607bdcf9cc7948fd7d23dbf4ab26ad",
        ],
        "mnist-depth-sweep-small.json": [
            "2ca8b6cebf2b567f6ef0f534283406ebed778b77ac75ee8673a57c7d14f59be2",
            "440a8d8f935ba8f0dc112d4d68952f82eb13220b90004618d1c00842620ae2f8",
            "268e8db4718f0473cbcbe146bdf7eb48bc14632404dc7766ac250abd88677bde",
            "986fb66c8fab9b5b1049156a17e215e347ce1f6b08d624a94fb8feac0bb6a558",
        ],
        "mnist-depth-sweep.json": [
            "429c3ee2253725d3f0304537c2d535cff89f36f9ccf8e7411cf4bf9ed57c660e",
            "bacd0071d1f000058697b8d887462af63f71729ecd8cc4050d1a697ba49aa1fa",
            "8e8d02462d7e883d592af285ef554bc27f612ca9a376fe4f8d1266636f6ed239",
            "5459fa543ec8579084a3f1346051695dac01fcb0a6c60ef34f943c3a2d8cbbfc",
            "cb944e2e66d48c5a161a32d4a4e85102da7a4bb2bfd2c07dd6eb61ae4bb32e3e",
            "2b9cca12c2ad1c048c2657d8ef96af1dc7ace2686df61aa6b787f577b872d767",
            "ab74d06fbe25c268fc8c1d486dbc16e439d77384f36af415a251f2a7faf66d51",
            "305c770cfcc6eb05567fab0b2440bc8f59be497dbd6a55c399c56ade02d5a114",
            "a5379184a9bec194287202172e4767e13e5f294c2e54445a4e4025ae1c333cae",
            "677bb75b2fcc62d9315f09dd6921d93264de4344e6e6690562a1c81f70392239",
            "c9e04375f45c133e8e9c174d9b27ae1fa3e32741deb3122648bc12938a35e94b",
            "16e4fa15bb8dfbb290b0b5d6f062aff107b446689d491ee76e5474ca84be6452",
        ],
        "quickstart-cifar10.json": [
            "a62cb8d09a0650aec1b4e161cc1f8e57e1d428f6f43be53f12f36837c80eeaf2",
            "52e10d4c5aea8453f0fb409e7a509549da35e9de8daef54976620a1342df2929",
        ],
        // Changed on purpose: the quick start's new recipe (issue 19 item 2; block 1 thinned and lr 0.03 on 2026-12-03), new trials.
        "quickstart-mnist.json": [
            "7732e992f6cb21d4df9e75556a17419fba7c0418c575e54ab4e8cb4bb3516852",
            "b4dcb23b0beaa6fea7dbb6081c871b8b267ef222178704467066a9317a839d8a",
            "1a1fd74071bac78276ebf418a251db14143cd4b39f990844a36c3594c1e47d02",
            "4ddd528948c0852389ed87460abfbbca046247174e2d2278f3d0693bb65eebf3",
        ],
        "table4-mnist.json": [
            "95a5764235dab38fe68c581b3b37bd01832e7cd21100640d720978b486e73ca5",
            "892012262d4cabb64017d49872841c5fde81af2624019a2e538e093f72ee9077",
            "cf318d183788628ec7b3406bde71ba3fc274c040d488a6a47523769e63879c18",
        ],
        "table5-gap-vs-fc-cifar10-2h.json": [
            "c836674f24614cc05ee14225035fd6786c1285a9eb5f8d12d3428b7aefab5542",
            "e621e0f9b7e0b4a8d619e2172f960be8a74f69e183c1e2b0283e68d752243dad",
            "1827404c6f63f8114511da072818bca49edaa98ae620f8e7618992769803757a",
            "d556063465ad944db4077bf287775541fdd9ab750a1d6db9fe7b0fe289646bbc",
            "a356f48aadbf3511e8f64368faf9aa91fe3e51d616b839ded94a037aa30abc67",
            "4224ba159c5e8ef30a82587bf6ac08a4242173caacd147690d29998342a91adf",
            "8b3b06892ede50b1ea0418329957d09f950d1985ba7015016670c0a69cbdcd97",
            "20ac0854a964611a933d812049e3c348c3f3d84dccf90dafe198ef56ddf93f23",
            "6eec1aec85ce76d0bab258dceeb75313c77a96ba7a9d3396bf9ed293867f3fc3",
        ],
        "table5-gap-vs-fc-cifar10-small.json": [
            "25ec57099a8f1af1d800c02e4593bcbbdec8cc8cd1abc5bef97bc6561af67540",
            "100399da9723a81ef514cf48b0e90f1bda89739eddcb74b265fdf7929a89f684",
            "4f889e3cdd2d4355bca86e13b0cf51730007e6071116b5cdfbc763d07a6c8bfc",
        ],
        // Changed once on purpose: the zoo recipe became exactly the zoo's multipliers (issue 13 item 17).
        "table5-gap-vs-fc-cifar10.json": [
            "fbd997ca4814e658f44252566e6030f5255797b68d28d4d6b477c1e7e0d274e9",
            "37abf709dafcd5078c47fdc31aefdf6788a951bf8f569466d507813795ce6d06",
            "e66904776dcfde1d12830c00e5e634a5059cc8a447ff9f2af255b09e2c4d826c",
            "b5078294b28a5894a637883a896289dcf52b9458467a76b9c07e10d5a5678f7e",
            "abeb8a16985e21af8baaf0137619bb6849a77015b3ec06d225c9c9895e0e8126",
            "44f6aac28e2281f0c9d26e79104ec4fb97313ee2bc29c1600ea23de8466bb778",
            "2818543d3ac34478feeb0f16cd3f733ad6b336238f582f22254b2a41af41b70f",
            "ff91a6c9709b7a4c1d97942e5ee6736a4730a613312c9918139803681574a3f2",
            "fcd5ceeed02d3584c6a9239323cea45d03ecccaffcc1bcea97483d1defd12f29",
        ],
    ]

    func testEveryStudyFileKeepsItsTrialIds() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.studies.path)
            .filter { $0.hasSuffix(".json") && $0 != "study.schema.json" }.sorted()
        XCTAssertEqual(files, Self.pinned.keys.sorted(), "a study file was added or removed: pin its trial ids here")
        for file in files {
            let study = try StudyDefinition.load(path: Self.studies.appendingPathComponent(file).path)
            XCTAssertEqual(study.trials.map(\.id), Self.pinned[file] ?? [], file)
        }
    }
}
