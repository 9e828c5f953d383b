//! The texts kenzen ships: one per language and message kind, and the buyer's way to request a
//! cancellation on Amazon in each language. They are what a seller gets without templates of
//! their own, and what a stored template that no longer validates falls back to.
//!
//! Every text here must validate as a seller's template would (tests check each one with the
//! longest product list), and each final apology must carry its language's phrase in
//! [`crate::message::is_final_text`]'s list, which no request may carry.

use super::TemplateKind;
use crate::marketplace::Language;

/// Where a buyer requests a cancellation on Amazon, in the words Amazon's own pages use in
/// that language ({cancel_path}): the order list, then the button on the order.
pub fn cancel_path(lang: Language) -> &'static str {
    match lang {
        Language::Japanese => "「注文履歴」→「商品をキャンセル」",
        Language::English => "Your Orders → Cancel items",
        Language::German => "Meine Bestellungen → Artikel stornieren",
        Language::French => "Vos commandes → Annuler des articles",
        Language::Italian => "I miei ordini → Annulla articoli",
        Language::Spanish => "Mis pedidos → Cancelar productos",
    }
}

/// kenzen's own text for `lang` and `kind`.
pub fn text(lang: Language, kind: TemplateKind) -> &'static str {
    use Language::*;
    use TemplateKind::*;
    match (lang, kind) {
        (Japanese, Request) => JA_REQUEST,
        (Japanese, RequestAgainToday) => JA_AGAIN_TODAY,
        (Japanese, RequestAgainLater) => JA_AGAIN_LATER,
        (Japanese, FinalNotice) => JA_FINAL,
        (Japanese, CancelFirst) => JA_CANCEL_FIRST,
        (English, Request) => EN_REQUEST,
        (English, RequestAgainToday) => EN_AGAIN_TODAY,
        (English, RequestAgainLater) => EN_AGAIN_LATER,
        (English, FinalNotice) => EN_FINAL,
        (English, CancelFirst) => EN_CANCEL_FIRST,
        (German, Request) => DE_REQUEST,
        (German, RequestAgainToday) => DE_AGAIN_TODAY,
        (German, RequestAgainLater) => DE_AGAIN_LATER,
        (German, FinalNotice) => DE_FINAL,
        (German, CancelFirst) => DE_CANCEL_FIRST,
        (French, Request) => FR_REQUEST,
        (French, RequestAgainToday) => FR_AGAIN_TODAY,
        (French, RequestAgainLater) => FR_AGAIN_LATER,
        (French, FinalNotice) => FR_FINAL,
        (French, CancelFirst) => FR_CANCEL_FIRST,
        (Italian, Request) => IT_REQUEST,
        (Italian, RequestAgainToday) => IT_AGAIN_TODAY,
        (Italian, RequestAgainLater) => IT_AGAIN_LATER,
        (Italian, FinalNotice) => IT_FINAL,
        (Italian, CancelFirst) => IT_CANCEL_FIRST,
        (Spanish, Request) => ES_REQUEST,
        (Spanish, RequestAgainToday) => ES_AGAIN_TODAY,
        (Spanish, RequestAgainLater) => ES_AGAIN_LATER,
        (Spanish, FinalNotice) => ES_FINAL,
        (Spanish, CancelFirst) => ES_CANCEL_FIRST,
    }
}

// Japanese (keigo).

const JA_REQUEST: &str = "\
ご注文番号 {order_id} についてのお詫びとお願い

このたびは「{products}」をご注文いただき、誠にありがとうございます。
誠に申し訳ございませんが、ご注文の商品をご用意することができなくなりました。

大変お手数をおかけいたしますが、Amazonの{cancel_path}から、ご注文番号 {order_id} のキャンセルをリクエストしていただけますでしょうか。代金が請求されることはございません。

ご迷惑をおかけいたしますことを、心よりお詫び申し上げます。

{signature}";

const JA_AGAIN_TODAY: &str = "\
ご注文番号 {order_id} について（再度のお願い）

本日先ほどもご連絡いたしましたが、改めてお願い申し上げます。

このたびは「{products}」をご注文いただき、誠にありがとうございます。
誠に申し訳ございませんが、ご注文の商品をご用意することができなくなりました。

大変お手数をおかけいたしますが、Amazonの{cancel_path}から、ご注文番号 {order_id} のキャンセルをリクエストしていただけますでしょうか。代金が請求されることはございません。
すでにお手続きいただいている場合は、行き違いとなりましたことをご容赦ください。

重ねてお詫び申し上げます。

{signature}";

const JA_AGAIN_LATER: &str = "\
ご注文番号 {order_id} について（再度のお願い）

先日もご連絡いたしましたが、改めてお願い申し上げます。

このたびは「{products}」をご注文いただき、誠にありがとうございます。
誠に申し訳ございませんが、ご注文の商品をご用意することができなくなりました。

大変お手数をおかけいたしますが、Amazonの{cancel_path}から、ご注文番号 {order_id} のキャンセルをリクエストしていただけますでしょうか。代金が請求されることはございません。
すでにお手続きいただいている場合は、行き違いとなりましたことをご容赦ください。

重ねてお詫び申し上げます。

{signature}";

const JA_FINAL: &str = "\
ご注文番号 {order_id} のキャンセルについてのお詫び

このたびは「{products}」をご注文いただき、誠にありがとうございます。
誠に申し訳ございませんが、ご注文の商品をご用意することができないため、まもなく当店にてご注文をキャンセルさせていただきます。代金が請求されることはございません。
すでにキャンセルをリクエストいただいている場合は、これ以上のお手続きは必要ございません。

ご期待に沿えず、誠に申し訳ございません。またのご利用を心よりお待ちしております。

{signature}";

const JA_CANCEL_FIRST: &str = "\
ご注文番号 {order_id} のキャンセルについてのお詫び

このたびは「{products}」をご注文いただき、誠にありがとうございます。
誠に申し訳ございませんが、ご注文の商品をご用意することができないため、当店にてご注文をキャンセルさせていただきます。代金が請求されることはございません。

ご期待に沿えず、誠に申し訳ございません。またのご利用を心よりお待ちしております。

{signature}";

// English.

const EN_REQUEST: &str = "\
Your order {order_id}: our apologies and a request

Thank you for ordering \"{products}\". We are very sorry, but we are unable to fulfil this order.

Could you please request the cancellation of order {order_id} on Amazon ({cancel_path})? You will not be charged.

We sincerely apologise for the inconvenience.

Kind regards,
{signature}";

const EN_AGAIN_TODAY: &str = "\
Your order {order_id}: a reminder of our request

We are writing again, following our message earlier today.

Thank you for ordering \"{products}\". We are very sorry, but we are unable to fulfil this order.

Could you please request the cancellation of order {order_id} on Amazon ({cancel_path})? You will not be charged. If you have already requested it, thank you, and please disregard this message.

We sincerely apologise for the inconvenience.

Kind regards,
{signature}";

const EN_AGAIN_LATER: &str = "\
Your order {order_id}: a reminder of our request

We are writing again, following our previous message.

Thank you for ordering \"{products}\". We are very sorry, but we are unable to fulfil this order.

Could you please request the cancellation of order {order_id} on Amazon ({cancel_path})? You will not be charged. If you have already requested it, thank you, and please disregard this message.

We sincerely apologise for the inconvenience.

Kind regards,
{signature}";

const EN_FINAL: &str = "\
Your order {order_id}: our apologies

Thank you for ordering \"{products}\". We are very sorry, but we are unable to fulfil this order, so we are cancelling it on our side. You will not be charged.

If you have already requested the cancellation, there is nothing more you need to do.

We apologise for letting you down and hope to serve you again.

Kind regards,
{signature}";

const EN_CANCEL_FIRST: &str = "\
Your order {order_id}: our apologies

Thank you for ordering \"{products}\". We are very sorry, but we are unable to fulfil this order, so we are cancelling it. You will not be charged.

We apologise for letting you down and hope to serve you again.

Kind regards,
{signature}";

// German (Sie).

const DE_REQUEST: &str = "\
Ihre Bestellung {order_id}: Entschuldigung und eine Bitte

Guten Tag,

vielen Dank für Ihre Bestellung von „{products}“. Leider können wir diese Bestellung nicht ausführen. Das tut uns sehr leid.

Dürfen wir Sie bitten, die Stornierung der Bestellung {order_id} selbst bei Amazon zu beantragen ({cancel_path})? Es werden Ihnen keine Kosten berechnet.

Bitte entschuldigen Sie die Unannehmlichkeiten.

Mit freundlichen Grüßen
{signature}";

const DE_AGAIN_TODAY: &str = "\
Ihre Bestellung {order_id}: Erinnerung an unsere Bitte

Guten Tag,

wir hatten Ihnen heute bereits geschrieben und möchten unsere Bitte noch einmal wiederholen.

Vielen Dank für Ihre Bestellung von „{products}“. Leider können wir diese Bestellung nicht ausführen. Das tut uns sehr leid.

Dürfen wir Sie bitten, die Stornierung der Bestellung {order_id} selbst bei Amazon zu beantragen ({cancel_path})? Es werden Ihnen keine Kosten berechnet. Falls Sie die Stornierung bereits beantragt haben, danken wir Ihnen und bitten Sie, diese Nachricht als gegenstandslos zu betrachten.

Bitte entschuldigen Sie die Unannehmlichkeiten.

Mit freundlichen Grüßen
{signature}";

const DE_AGAIN_LATER: &str = "\
Ihre Bestellung {order_id}: Erinnerung an unsere Bitte

Guten Tag,

wir hatten Ihnen vor Kurzem bereits geschrieben und möchten unsere Bitte noch einmal wiederholen.

Vielen Dank für Ihre Bestellung von „{products}“. Leider können wir diese Bestellung nicht ausführen. Das tut uns sehr leid.

Dürfen wir Sie bitten, die Stornierung der Bestellung {order_id} selbst bei Amazon zu beantragen ({cancel_path})? Es werden Ihnen keine Kosten berechnet. Falls Sie die Stornierung bereits beantragt haben, danken wir Ihnen und bitten Sie, diese Nachricht als gegenstandslos zu betrachten.

Bitte entschuldigen Sie die Unannehmlichkeiten.

Mit freundlichen Grüßen
{signature}";

const DE_FINAL: &str = "\
Ihre Bestellung {order_id}: Entschuldigung

Guten Tag,

vielen Dank für Ihre Bestellung von „{products}“. Leider können wir diese Bestellung nicht ausführen und werden sie daher in Kürze von unserer Seite aus stornieren. Es werden Ihnen keine Kosten berechnet.

Falls Sie die Stornierung bereits beantragt haben, müssen Sie nichts weiter tun.

Wir bedauern sehr, Sie enttäuschen zu müssen, und würden uns freuen, Sie wieder bei uns begrüßen zu dürfen.

Mit freundlichen Grüßen
{signature}";

const DE_CANCEL_FIRST: &str = "\
Ihre Bestellung {order_id}: Entschuldigung

Guten Tag,

vielen Dank für Ihre Bestellung von „{products}“. Leider können wir diese Bestellung nicht ausführen und stornieren sie daher von unserer Seite aus. Es werden Ihnen keine Kosten berechnet.

Wir bedauern sehr, Sie enttäuschen zu müssen, und würden uns freuen, Sie wieder bei uns begrüßen zu dürfen.

Mit freundlichen Grüßen
{signature}";

// French (vous).

const FR_REQUEST: &str = "\
Votre commande {order_id} : nos excuses et une demande

Bonjour,

Nous vous remercions pour votre commande « {products} ». Nous sommes sincèrement désolés, mais nous ne sommes pas en mesure d'honorer cette commande.

Pourriez-vous demander vous-même l'annulation de la commande {order_id} sur Amazon ({cancel_path}) ? Aucun montant ne vous sera facturé.

Nous vous prions de nous excuser pour la gêne occasionnée.

Cordialement,
{signature}";

const FR_AGAIN_TODAY: &str = "\
Votre commande {order_id} : rappel de notre demande

Bonjour,

Nous vous avons écrit plus tôt dans la journée et nous nous permettons de revenir vers vous.

Nous vous remercions pour votre commande « {products} ». Nous sommes sincèrement désolés, mais nous ne sommes pas en mesure d'honorer cette commande.

Pourriez-vous demander vous-même l'annulation de la commande {order_id} sur Amazon ({cancel_path}) ? Aucun montant ne vous sera facturé. Si vous l'avez déjà demandée, nous vous en remercions et vous prions de ne pas tenir compte de ce message.

Nous vous prions de nous excuser pour la gêne occasionnée.

Cordialement,
{signature}";

const FR_AGAIN_LATER: &str = "\
Votre commande {order_id} : rappel de notre demande

Bonjour,

Suite à notre précédent message, nous nous permettons de revenir vers vous.

Nous vous remercions pour votre commande « {products} ». Nous sommes sincèrement désolés, mais nous ne sommes pas en mesure d'honorer cette commande.

Pourriez-vous demander vous-même l'annulation de la commande {order_id} sur Amazon ({cancel_path}) ? Aucun montant ne vous sera facturé. Si vous l'avez déjà demandée, nous vous en remercions et vous prions de ne pas tenir compte de ce message.

Nous vous prions de nous excuser pour la gêne occasionnée.

Cordialement,
{signature}";

const FR_FINAL: &str = "\
Votre commande {order_id} : nos excuses

Bonjour,

Nous vous remercions pour votre commande « {products} ». Nous sommes sincèrement désolés, mais nous ne sommes pas en mesure d'honorer cette commande : nous allons donc l'annuler de notre côté sous peu. Aucun montant ne vous sera facturé.

Si vous avez déjà demandé l'annulation, vous n'avez rien d'autre à faire.

Nous regrettons de ne pas avoir pu répondre à vos attentes et espérons avoir le plaisir de vous servir à nouveau.

Cordialement,
{signature}";

const FR_CANCEL_FIRST: &str = "\
Votre commande {order_id} : nos excuses

Bonjour,

Nous vous remercions pour votre commande « {products} ». Nous sommes sincèrement désolés, mais nous ne sommes pas en mesure d'honorer cette commande : nous l'annulons donc de notre côté. Aucun montant ne vous sera facturé.

Nous regrettons de ne pas avoir pu répondre à vos attentes et espérons avoir le plaisir de vous servir à nouveau.

Cordialement,
{signature}";

// Italian (Lei).

const IT_REQUEST: &str = "\
Ordine {order_id}: le nostre scuse e una richiesta

Gentile cliente,

La ringraziamo per aver ordinato \"{products}\". Siamo davvero spiacenti, ma non siamo in grado di evadere questo ordine.

La preghiamo gentilmente di richiedere l'annullamento dell'ordine {order_id} direttamente su Amazon ({cancel_path}). Non Le verrà addebitato alcun importo.

Ci scusiamo per il disagio.

Cordiali saluti,
{signature}";

const IT_AGAIN_TODAY: &str = "\
Ordine {order_id}: promemoria della nostra richiesta

Gentile cliente,

Le abbiamo già scritto oggi e ci permettiamo di ricontattarLa.

La ringraziamo per aver ordinato \"{products}\". Siamo davvero spiacenti, ma non siamo in grado di evadere questo ordine.

La preghiamo gentilmente di richiedere l'annullamento dell'ordine {order_id} direttamente su Amazon ({cancel_path}). Non Le verrà addebitato alcun importo. Se ha già richiesto l'annullamento, La ringraziamo e La preghiamo di non tenere conto di questo messaggio.

Ci scusiamo per il disagio.

Cordiali saluti,
{signature}";

const IT_AGAIN_LATER: &str = "\
Ordine {order_id}: promemoria della nostra richiesta

Gentile cliente,

facendo seguito al nostro precedente messaggio, ci permettiamo di ricontattarLa.

La ringraziamo per aver ordinato \"{products}\". Siamo davvero spiacenti, ma non siamo in grado di evadere questo ordine.

La preghiamo gentilmente di richiedere l'annullamento dell'ordine {order_id} direttamente su Amazon ({cancel_path}). Non Le verrà addebitato alcun importo. Se ha già richiesto l'annullamento, La ringraziamo e La preghiamo di non tenere conto di questo messaggio.

Ci scusiamo per il disagio.

Cordiali saluti,
{signature}";

const IT_FINAL: &str = "\
Ordine {order_id}: le nostre scuse

Gentile cliente,

La ringraziamo per aver ordinato \"{products}\". Siamo davvero spiacenti, ma non siamo in grado di evadere questo ordine: a breve lo annulleremo quindi da parte nostra. Non Le verrà addebitato alcun importo.

Se ha già richiesto l'annullamento, non deve fare nient'altro.

Ci scusiamo per non aver potuto soddisfare le Sue aspettative e speriamo di poterLa servire di nuovo.

Cordiali saluti,
{signature}";

const IT_CANCEL_FIRST: &str = "\
Ordine {order_id}: le nostre scuse

Gentile cliente,

La ringraziamo per aver ordinato \"{products}\". Siamo davvero spiacenti, ma non siamo in grado di evadere questo ordine: pertanto lo annulliamo da parte nostra. Non Le verrà addebitato alcun importo.

Ci scusiamo per non aver potuto soddisfare le Sue aspettative e speriamo di poterLa servire di nuovo.

Cordiali saluti,
{signature}";

// Spanish (usted).

const ES_REQUEST: &str = "\
Su pedido {order_id}: nuestras disculpas y una petición

Estimado/a cliente:

Le agradecemos su pedido de «{products}». Lamentamos mucho comunicarle que no podemos completar este pedido.

¿Podría solicitar la cancelación del pedido {order_id} directamente en Amazon ({cancel_path})? No se le realizará ningún cargo.

Le pedimos disculpas por las molestias.

Atentamente,
{signature}";

const ES_AGAIN_TODAY: &str = "\
Su pedido {order_id}: recordatorio de nuestra petición

Estimado/a cliente:

Le escribimos de nuevo en relación con nuestro mensaje de hoy.

Le agradecemos su pedido de «{products}». Lamentamos mucho comunicarle que no podemos completar este pedido.

¿Podría solicitar la cancelación del pedido {order_id} directamente en Amazon ({cancel_path})? No se le realizará ningún cargo. Si ya ha solicitado la cancelación, se lo agradecemos y le rogamos que ignore este mensaje.

Le pedimos disculpas por las molestias.

Atentamente,
{signature}";

const ES_AGAIN_LATER: &str = "\
Su pedido {order_id}: recordatorio de nuestra petición

Estimado/a cliente:

Le escribimos de nuevo en relación con nuestro mensaje anterior.

Le agradecemos su pedido de «{products}». Lamentamos mucho comunicarle que no podemos completar este pedido.

¿Podría solicitar la cancelación del pedido {order_id} directamente en Amazon ({cancel_path})? No se le realizará ningún cargo. Si ya ha solicitado la cancelación, se lo agradecemos y le rogamos que ignore este mensaje.

Le pedimos disculpas por las molestias.

Atentamente,
{signature}";

const ES_FINAL: &str = "\
Su pedido {order_id}: nuestras disculpas

Estimado/a cliente:

Le agradecemos su pedido de «{products}». Lamentamos mucho comunicarle que no podemos completar este pedido, por lo que en breve lo cancelaremos por nuestra parte. No se le realizará ningún cargo.

Si ya ha solicitado la cancelación, no tiene que hacer nada más.

Sentimos no haber podido atenderle como se merece y esperamos poder servirle de nuevo.

Atentamente,
{signature}";

const ES_CANCEL_FIRST: &str = "\
Su pedido {order_id}: nuestras disculpas

Estimado/a cliente:

Le agradecemos su pedido de «{products}». Lamentamos mucho comunicarle que no podemos completar este pedido, por lo que lo cancelamos por nuestra parte. No se le realizará ningún cargo.

Sentimos no haber podido atenderle como se merece y esperamos poder servirle de nuevo.

Atentamente,
{signature}";
