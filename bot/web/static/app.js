// The Mini App's address: Telegram puts the signed init data in the fragment (tgWebAppData); it is
// posted to the server, which verifies it and opens a session. Outside Telegram there is none.
(function () {
  var params = new URLSearchParams(window.location.hash.slice(1));
  var data = params.get("tgWebAppData");
  if (!data && window.Telegram && window.Telegram.WebApp) {
    data = window.Telegram.WebApp.initData;
  }
  if (!data) {
    document.getElementById("outside").hidden = false;
    return;
  }
  var form = document.getElementById("signin");
  form.elements["init_data"].value = data;
  form.submit();
})();
