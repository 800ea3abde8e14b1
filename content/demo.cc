#include "content/demo.h"

#include <cstdio>

#include "content/file_types.h"

namespace relais::content {

const std::vector<DemoAccount>& DemoAccounts() {
  static const std::vector<DemoAccount> kAccounts = {
      {"admin", "demo-admin", "admin", "administrateur / administrator"},
      {"m.martin", "demo-prof", "teacher", "Mme Martin, 6e A et 5e B"},
      {"p.durand", "demo-prof", "teacher", "M. Durand, 5e B"},
      {"lea.dubois", "demo-eleve", "student", "Léa Dubois, 6e A"},
      {"noah.petit", "demo-eleve", "student", "Noah Petit, 6e A"},
      {"ines.moreau", "demo-eleve", "student", "Inès Moreau, 6e A"},
      {"yanis.roux", "demo-eleve", "student", "Yanis Roux, 5e B"},
      {"chloe.fournier", "demo-eleve", "student", "Chloé Fournier, 5e B"},
  };
  return kAccounts;
}

std::string MakeSimplePdf(std::string_view title, const std::vector<std::string>& lines) {
  auto escape = [](std::string_view s) {
    std::string out;
    for (char c : s) {
      if (c == '(' || c == ')' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    return out;
  };
  std::string stream = "BT /F1 20 Tf 60 770 Td (" + escape(title) + ") Tj ET\n";
  int y = 730;
  for (const std::string& l : lines) {
    stream += "BT /F1 12 Tf 60 " + std::to_string(y) + " Td (" + escape(l) + ") Tj ET\n";
    y -= 20;
  }
  std::vector<std::string> objects = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
      "/Contents 5 0 R >>",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
      "<< /Length " + std::to_string(stream.size()) + " >>\nstream\n" + stream + "endstream",
  };
  std::string pdf = "%PDF-1.4\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t off : offsets) {
    char line[24];
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", off);
    pdf += line;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

namespace {

Result<FileInfo> StoreFile(School& school, const Viewer& owner, std::string_view bytes, std::string_view name,
                           std::string_view declared) {
  RELAIS_ASSIGN_OR_RETURN(BlobInfo blob, school.blobs().Put(bytes));
  RELAIS_ASSIGN_OR_RETURN(std::string type, CheckUpload(name, declared, bytes.substr(0, 4096), bytes.size()));
  return school.files().Record(owner, blob, type, name);
}

Viewer AsViewer(const User& u) { return Viewer{u.id, u.login, u.role, "demo"}; }

}  // namespace

Result<bool> SeedDemo(School& school) {
  Accounts& accounts = school.accounts();
  if (accounts.GetSetting("demo_seeded").ok()) return false;
  std::vector<RosterError> errors;
  RELAIS_RETURN_IF_ERROR(accounts.CreateClass(nullptr, "6e A").status());
  RELAIS_RETURN_IF_ERROR(accounts.CreateClass(nullptr, "5e B").status());
  std::vector<User> users;
  for (const DemoAccount& a : DemoAccounts()) {
    NewUser nu;
    nu.login = a.login;
    size_t comma = a.description.find(',');
    nu.display_name = a.role == "admin" ? "Administrateur" : a.description.substr(0, comma);
    nu.role = *ParseRole(a.role);
    nu.password = a.password;
    RELAIS_ASSIGN_OR_RETURN(User u, accounts.CreateUser(nullptr, nu));
    users.push_back(u);
  }
  RELAIS_ASSIGN_OR_RETURN(ClassInfo six, accounts.FindClass("6e A"));
  RELAIS_ASSIGN_OR_RETURN(ClassInfo five, accounts.FindClass("5e B"));
  auto join = [&](const std::string& class_id, size_t user) {
    return accounts.AddMember(nullptr, class_id, users[user].id).status();
  };
  for (size_t u : {1, 3, 4, 5}) RELAIS_RETURN_IF_ERROR(join(six.id, u));
  for (size_t u : {1, 2, 6, 7}) RELAIS_RETURN_IF_ERROR(join(five.id, u));

  Viewer martin = AsViewer(users[1]);
  Viewer durand = AsViewer(users[2]);
  std::string pdf = MakeSimplePdf(
      "Fractions - exercices",
      {"1. Simplifier 6/8, 10/15 et 12/16.", "2. Ranger dans l'ordre croissant : 1/2, 2/3, 3/4.",
       "3. Un gateau est partage en 8 parts. Lea en mange 3.", "   Quelle fraction du gateau reste-t-il ?"});
  RELAIS_ASSIGN_OR_RETURN(FileInfo pdf_file,
                          StoreFile(school, martin, pdf, "Fractions - exercices.pdf", "application/pdf"));
  RELAIS_ASSIGN_OR_RETURN(FileInfo video,
                          StoreFile(school, martin, DemoVideoMp4(), "Les fractions en video.mp4", "video/mp4"));
  int64_t now = school.clock().Now();
  constexpr int64_t kDay = 24 * 3600;

  HomeworkInput fractions;
  fractions.class_id = six.id;
  fractions.subject = "Mathématiques";
  fractions.title = "Exercices sur les fractions";
  fractions.instructions =
      "Regarder la vidéo, puis faire les exercices 1 à 3 de la fiche.\n"
      "Rendre une photo de votre cahier.";
  fractions.due_at = now + 3 * kDay;
  fractions.attachments = {pdf_file.id, video.id};
  fractions.published = true;
  RELAIS_ASSIGN_OR_RETURN(Homework h1, school.homework().Create(martin, fractions));

  HomeworkInput reading;
  reading.class_id = six.id;
  reading.subject = "Français";
  reading.title = "Lecture : « Le Petit Prince », chapitre 2";
  reading.instructions = "Lire le chapitre 2 et écrire en trois phrases ce que demande le petit prince.";
  reading.due_at = now - kDay;
  reading.given_at = now - 5 * kDay;
  reading.published = true;
  RELAIS_ASSIGN_OR_RETURN(Homework h2, school.homework().Create(martin, reading));

  HomeworkInput draft = reading;
  draft.title = "Rédaction : mon quartier (brouillon)";
  draft.instructions = "À préparer pour la semaine prochaine.";
  draft.due_at = now + 10 * kDay;
  draft.given_at.reset();
  draft.published = false;
  RELAIS_RETURN_IF_ERROR(school.homework().Create(martin, draft).status());

  HomeworkInput history;
  history.class_id = five.id;
  history.subject = "Histoire-géographie";
  history.title = "Carte : les fleuves de France";
  history.instructions = "Compléter la carte avec les cinq grands fleuves.";
  history.due_at = now + 5 * kDay;
  history.published = true;
  RELAIS_RETURN_IF_ERROR(school.homework().Create(durand, history).status());

  // Course material for 6e A.
  RELAIS_ASSIGN_OR_RETURN(Course maths, school.courses().Create(martin, six.id, "Mathématiques"));
  RELAIS_ASSIGN_OR_RETURN(Section chapter,
                          school.courses().AddSection(martin, maths.id, "Chapitre 1 : les fractions", std::nullopt));
  RELAIS_RETURN_IF_ERROR(school.courses()
                             .AddResource(martin, chapter.id,
                                          {"text", "À retenir", std::nullopt, std::nullopt,
                                           "Une fraction partage une unité en parts égales.\n"
                                           "Le dénominateur dit en combien de parts, le "
                                           "numérateur combien on en prend.",
                                           std::nullopt})
                             .status());
  RELAIS_RETURN_IF_ERROR(
      school.courses()
          .AddResource(martin, chapter.id,
                       {"file", "La vidéo du cours", video.id, std::nullopt, std::nullopt, std::nullopt})
          .status());
  RELAIS_RETURN_IF_ERROR(
      school.courses()
          .AddResource(martin, chapter.id,
                       {"file", "Fiche d'exercices", pdf_file.id, std::nullopt, std::nullopt, std::nullopt})
          .status());
  RELAIS_RETURN_IF_ERROR(school.courses()
                             .AddResource(martin, chapter.id,
                                          {"link", "Pour aller plus loin (en ligne)", std::nullopt,
                                           "https://www.lumni.fr/", std::nullopt, std::nullopt})
                             .status());

  // Hand-ins: Léa handed in the reading and it was returned; Noah handed in late.
  Viewer lea = AsViewer(users[3]);
  Viewer noah = AsViewer(users[4]);
  RELAIS_ASSIGN_OR_RETURN(Submission s1, school.submissions().HandIn(
                                             lea, h2.id,
                                             "Le petit prince demande qu'on lui dessine un mouton. "
                                             "Le narrateur essaie plusieurs fois. Finalement il dessine une caisse.",
                                             {}));
  RELAIS_RETURN_IF_ERROR(
      school.submissions().Return(martin, s1.id, {"Très bien résumé, attention aux accords.", 16.5, {}}).status());
  RELAIS_RETURN_IF_ERROR(school.submissions().HandIn(noah, h2.id, "Il veut un mouton.", {}).status());
  RELAIS_RETURN_IF_ERROR(school.submissions().HandIn(lea, h1.id, "J'ai fait les exercices 1 et 2.", {}).status());
  RELAIS_RETURN_IF_ERROR(accounts.SetSetting("demo_seeded", "1"));
  RELAIS_RETURN_IF_ERROR(accounts.SetSetting("school_name", "Collège de démonstration"));
  return true;
}

}  // namespace relais::content
